/*  jsonio.c - placeholder until the module lands. */
#include "jsonio.h"

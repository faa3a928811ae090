/*  dsl.c - placeholder until the module lands. */
#include "dsl.h"

/*  assign.c - placeholder until the module lands. */
#include "assign.h"

/*  gen.c - placeholder until the module lands. */
#include "gen.h"

/*  pyrand.c - placeholder until the module lands. */
#include "pyrand.h"

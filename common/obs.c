/*  obs.c - placeholder until the module lands. */
#include "obs.h"

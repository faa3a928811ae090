/*  wire.c - placeholder until the module lands. */
#include "wire.h"

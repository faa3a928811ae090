/*  ydoc.c - placeholder until the module lands. */
#include "ydoc.h"

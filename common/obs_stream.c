/*  obs_stream.c - placeholder until the module lands. */
#include "obs_stream.h"

#ifndef CADRE_WIRE_H
#define CADRE_WIRE_H
#endif

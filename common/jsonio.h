#ifndef CADRE_JSONIO_H
#define CADRE_JSONIO_H
#endif

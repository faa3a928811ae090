#ifndef CADRE_YDOC_H
#define CADRE_YDOC_H
#endif

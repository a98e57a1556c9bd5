/* state.h */
#ifndef TC_STATE_H
#define TC_STATE_H
#endif

/* log.h */
#ifndef TC_LOG_H
#define TC_LOG_H
#endif

/* settings.h */
#ifndef TC_SETTINGS_H
#define TC_SETTINGS_H
#endif

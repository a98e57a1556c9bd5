/* tunnel.h */
#ifndef TC_TUNNEL_H
#define TC_TUNNEL_H
#endif

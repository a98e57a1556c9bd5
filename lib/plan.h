/* plan.h */
#ifndef TC_PLAN_H
#define TC_PLAN_H
#endif

#ifndef POLICY_H
#define POLICY_H
#endif

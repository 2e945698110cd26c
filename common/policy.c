/* policy: being written. */
#include "policy.h"

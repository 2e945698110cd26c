/* sigv4: being written. */
#include "sigv4.h"

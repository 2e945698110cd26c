/* creds: being written. */
#include "creds.h"

/* http: being written. */
#include "http.h"

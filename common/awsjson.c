/* awsjson: being written. */
#include "awsjson.h"

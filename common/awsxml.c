/* awsxml: being written. */
#include "awsxml.h"

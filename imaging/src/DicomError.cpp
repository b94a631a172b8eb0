#include "imaging/DicomError.h"

#pragma once
// Every layer in one include.
#include "nn/module.h"
#include "nn/modules/batch_renorm2d.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/cross_entropy_loss.h"
#include "nn/modules/flatten.h"
#include "nn/modules/init.h"
#include "nn/modules/linear.h"
#include "nn/modules/pooling.h"
#include "nn/modules/relu.h"
#include "nn/modules/sequential.h"

// torchinfo.h: ffq's knowledge of torch's API (see torchinfo.c).
#ifndef FFQ_TORCHINFO_H
#define FFQ_TORCHINFO_H

#include <stdbool.h>

// Is s one of the NULL-terminated list?
bool torchinfo_in(const char *s, const char *const *list);

// §4.1: a torch.nn module class FastForward has a hand-written quantized
// version of ("Linear", "Conv2d", ...), by its class name.
bool torchinfo_is_hand_quantized(const char *name);
// Those class names, NULL-terminated: generated at build time from
// optable/known_modules.txt, the list the runtime's registry reads too.
extern const char *const ffq_known_modules[];
// A callable that is never a candidate (torch.utils.checkpoint.checkpoint, ...).
bool torchinfo_is_bypassed(const char *qualname);
// A library whose source is never read for a type (torch, numpy, math, ...).
bool torchinfo_is_opaque_library(const char *qualname);
// numpy, scipy, PIL, ...: libraries whose functions are never followed as helpers.
bool torchinfo_is_foreign_array_library(const char *qualname);
// A module of torch's own machinery (torch.cuda, torch.autograd, torch._dynamo, ...), whose
// functions are never followed as helpers.
bool torchinfo_is_torch_machinery(const char *module);
// torch.nn.Module's own module or the containers' (torch.nn.modules.module / .container):
// their methods quantize nothing and are never copied into a generated class.
bool torchinfo_is_module_base(const char *module);
// torch.Tensor, torch.nn.Parameter, torch.FloatTensor, ...
bool torchinfo_is_tensor_class(const char *qualname);
// torch.float32, torch.int8, ...
bool torchinfo_is_dtype(const char *qualname);

// NULL-terminated name lists, by what a call returns:
extern const char *const torchinfo_tensor_fns[];            // torch.<name>(...) -> Tensor
extern const char *const torchinfo_tuple_fns[];             // torch.<name>(...) -> tuple[Tensor, ...]
extern const char *const torchinfo_bool_fns[];              // torch.<name>(...) -> bool
extern const char *const torchinfo_tensor_methods[];        // Tensor.<name>(...) -> Tensor
extern const char *const torchinfo_tensor_int_methods[];    // Tensor.<name>(...) -> int
extern const char *const torchinfo_tensor_bool_methods[];   // Tensor.<name>(...) -> bool
extern const char *const torchinfo_tensor_tuple_methods[];  // Tensor.<name>(...) -> tuple[Tensor, ...]

#endif

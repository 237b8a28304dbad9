// The op reference (docs/ops.md), generated from the registry so it cannot drift.
#ifndef KILN_GRAPH_OP_DOCS_H_
#define KILN_GRAPH_OP_DOCS_H_

#include <string>

#include "graph/op_registry.h"

namespace kiln {

// Markdown: one section per op with its summary, inputs, attributes (type and
// default), allowed dtypes and traits, in name order.
std::string OpReferenceMarkdown(const OpRegistry& registry);

}  // namespace kiln

#endif  // KILN_GRAPH_OP_DOCS_H_

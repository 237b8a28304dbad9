// libkiln's public entry points beyond the runtime library's, referenced once
// so that the linker keeps the objects defining them (see
// runtime_api_roots.cc): the builder API, Session, model files, ONNX import and
// artifact compilation.
#include "graph/builder.h"
#include "graph/builder_ops.h"
#include "graph/graph_io.h"
#include "graph/onnx/model_file.h"
#include "graph/onnx/onnx_importer.h"
#include "graph/proto_convert.h"
#include "runtime/compile.h"
#include "runtime/compile_artifact.h"
#include "runtime/open_model.h"
#include "runtime/session.h"

namespace kiln {

[[gnu::used]] extern const void* const kCompilerApiRoots[] = {
    reinterpret_cast<const void*>(
        static_cast<absl::StatusOr<std::unique_ptr<Session>> (*)(
            const proto::GraphDef&, const SessionOptions&, const ImportOptions&)>(
            &Session::Create)),
    reinterpret_cast<const void*>(&ops::Relu),
    reinterpret_cast<const void*>(&GraphFromProto),
    reinterpret_cast<const void*>(&GraphToProto),
    reinterpret_cast<const void*>(&LoadGraph),
    reinterpret_cast<const void*>(&SaveGraphDef),
    reinterpret_cast<const void*>(&LoadModel),
    reinterpret_cast<const void*>(&ReadOnnxModel),
    reinterpret_cast<const void*>(&ImportOnnxModel),
    reinterpret_cast<const void*>(&OptimizeGraph),
    reinterpret_cast<const void*>(&CompileArtifact),
    reinterpret_cast<const void*>(&WriteArtifact),
    reinterpret_cast<const void*>(&OpenModelRunner),
};

// GraphBuilder's members are not free functions; a member pointer keeps
// builder.o.
[[gnu::used]] extern const auto kBuilderRoot = &GraphBuilder::Build;

}  // namespace kiln

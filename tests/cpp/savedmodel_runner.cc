// Loads a SavedModel the way TensorFlow Serving does and runs Predict requests through its session.
//
//   savedmodel_runner DIR [--warmup] [REQUEST.pb OUT_DIR]...
//
// 1. LoadSavedModel(SessionOptions, RunOptions, DIR, {"serve"}) (restore op + init op), as TF
//    Serving's SavedModelBundleFactory.
// 2. --warmup: replays DIR/assets.extra/tf_serving_warmup_requests (a TFRecord of
//    tensorflow.serving.PredictionLog) as TF Serving's RunSavedModelWarmup does: every predict_log
//    request goes through the Predict path below; the first failure fails the load. Prints
//    "warmup records: N".
// 3. Each REQUEST.pb (a serialized tensorflow.serving.PredictRequest) runs through the Predict
//    path; each output is written as a serialized TensorProto to OUT_DIR/<alias>.pb.
// Any failure prints the status to stderr and exits 1.
//
// The Predict path follows tensorflow_serving/servables/tensorflow/predict_util.cc: the signature
// (default "serving_default") must exist, the request must carry exactly the signature's inputs,
// the inputs are fed by tensor name and all outputs (or output_filter) fetched with Session::Run.
// PredictionLog / PredictRequest are read with a small protobuf wire-format reader (the
// tensorflow_serving protos are not part of the TensorFlow wheel); their TensorProto values are
// parsed by TensorFlow itself.

#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tensorflow/cc/saved_model/constants.h"
#include "tensorflow/cc/saved_model/loader.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow/core/lib/io/record_reader.h"
#include "tensorflow/core/platform/env.h"

namespace {

using tensorflow::Status;

// A PredictRequest: model_spec.signature_name, inputs (alias -> serialized TensorProto), output_filter.
struct Request {
  std::string signature_name;
  std::map<std::string, std::string> inputs;
  std::vector<std::string> output_filter;
};

// Minimal protobuf wire-format reader over one message's bytes.
class Wire {
 public:
  explicit Wire(const std::string& data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  bool varint(uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        *out = value;
        return true;
      }
    }
    return false;
  }
  // Reads the next field: its number, and for length-delimited fields its bytes; skips the others.
  bool field(int* number, std::string* bytes, bool* delimited) {
    uint64_t key, length;
    if (!varint(&key)) return false;
    *number = static_cast<int>(key >> 3);
    *delimited = (key & 7) == 2;
    switch (key & 7) {
      case 0: return varint(&length);
      case 1: pos_ += 8; return pos_ <= data_.size();
      case 5: pos_ += 4; return pos_ <= data_.size();
      case 2:
        if (!varint(&length) || pos_ + length > data_.size()) return false;
        bytes->assign(data_, pos_, length);
        pos_ += length;
        return true;
      default: return false;
    }
  }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

// Calls fn(number, bytes) for every length-delimited field of `message`.
template <typename Fn>
Status ForEachField(const std::string& message, const char* what, Fn fn) {
  Wire wire(message);
  while (!wire.done()) {
    int number;
    bool delimited;
    std::string bytes;
    if (!wire.field(&number, &bytes, &delimited)) {
      return tensorflow::errors::InvalidArgument("Failed to parse ", what);
    }
    if (delimited) TF_RETURN_IF_ERROR(fn(number, bytes));
  }
  return tensorflow::OkStatus();
}

Status ParseRequest(const std::string& bytes, Request* request) {
  // PredictRequest: model_spec = 1 (ModelSpec: signature_name = 3), inputs = 2 (map entry: key = 1,
  // value = 2), output_filter = 3.
  return ForEachField(bytes, "PredictRequest", [&](int number, const std::string& value) -> Status {
    if (number == 1) {
      return ForEachField(value, "ModelSpec", [&](int n, const std::string& v) -> Status {
        if (n == 3) request->signature_name = v;
        return tensorflow::OkStatus();
      });
    }
    if (number == 2) {
      std::string key, tensor;
      TF_RETURN_IF_ERROR(ForEachField(value, "inputs entry", [&](int n, const std::string& v) -> Status {
        if (n == 1) key = v;
        if (n == 2) tensor = v;
        return tensorflow::OkStatus();
      }));
      request->inputs[key] = tensor;
    }
    if (number == 3) request->output_filter.push_back(value);
    return tensorflow::OkStatus();
  });
}

// PredictionLog: predict_log = 6 (PredictLog: request = 1). Other log types are not written by tfgan.
Status ParsePredictionLog(const std::string& bytes, Request* request, bool* is_predict) {
  *is_predict = false;
  return ForEachField(bytes, "PredictionLog", [&](int number, const std::string& value) -> Status {
    if (number != 6) return tensorflow::OkStatus();
    *is_predict = true;
    return ForEachField(value, "PredictLog", [&](int n, const std::string& v) -> Status {
      return n == 1 ? ParseRequest(v, request) : tensorflow::OkStatus();
    });
  });
}

// TF Serving's RunPredict on the bundle's session; outputs keyed by alias.
Status RunPredict(const tensorflow::SavedModelBundle& bundle, const Request& request,
                  std::vector<std::pair<std::string, tensorflow::Tensor>>* outputs) {
  const std::string name = request.signature_name.empty() ? "serving_default" : request.signature_name;
  const auto& signatures = bundle.meta_graph_def.signature_def();
  auto found = signatures.find(name);
  if (found == signatures.end()) {
    return tensorflow::errors::FailedPrecondition("Serving signature key \"", name, "\" not found.");
  }
  const tensorflow::SignatureDef& signature = found->second;
  if (request.inputs.size() != static_cast<size_t>(signature.inputs().size())) {
    return tensorflow::errors::InvalidArgument("input size does not match signature: ", request.inputs.size(),
                                               "!=", signature.inputs().size());
  }
  std::vector<std::pair<std::string, tensorflow::Tensor>> feeds;
  for (const auto& [alias, bytes] : request.inputs) {
    auto info = signature.inputs().find(alias);
    if (info == signature.inputs().end()) {
      return tensorflow::errors::InvalidArgument("input tensor alias not found in signature: ", alias);
    }
    tensorflow::TensorProto proto;
    tensorflow::Tensor tensor;
    if (!proto.ParseFromString(bytes) || !tensor.FromProto(proto)) {
      return tensorflow::errors::InvalidArgument("tensor parsing error: ", alias);
    }
    feeds.emplace_back(info->second.name(), tensor);
  }
  std::vector<std::string> aliases(request.output_filter), names;
  if (aliases.empty()) {
    for (const auto& output : signature.outputs()) aliases.push_back(output.first);
  }
  for (const auto& alias : aliases) {
    auto info = signature.outputs().find(alias);
    if (info == signature.outputs().end()) {
      return tensorflow::errors::InvalidArgument("output tensor alias not found in signature: ", alias);
    }
    names.push_back(info->second.name());
  }
  std::vector<tensorflow::Tensor> tensors;
  tensorflow::RunOptions run_options;
  tensorflow::RunMetadata run_metadata;
  TF_RETURN_IF_ERROR(bundle.session->Run(run_options, feeds, names, {}, &tensors, &run_metadata));
  for (size_t i = 0; i < aliases.size(); ++i) outputs->emplace_back(aliases[i], tensors[i]);
  return tensorflow::OkStatus();
}

Status Warmup(const tensorflow::SavedModelBundle& bundle, const std::string& dir, int* count) {
  const std::string path = dir + "/" + tensorflow::kSavedModelAssetsExtraDirectory + "/tf_serving_warmup_requests";
  std::unique_ptr<tensorflow::RandomAccessFile> file;
  TF_RETURN_IF_ERROR(tensorflow::Env::Default()->NewRandomAccessFile(path, &file));
  tensorflow::io::SequentialRecordReader reader(file.get());
  tensorflow::tstring record;
  Status status;
  while ((status = reader.ReadRecord(&record)).ok()) {
    Request request;
    bool is_predict;
    TF_RETURN_IF_ERROR(ParsePredictionLog(std::string(record), &request, &is_predict));
    if (!is_predict) return tensorflow::errors::Unimplemented("warm-up record is not a predict_log");
    std::vector<std::pair<std::string, tensorflow::Tensor>> outputs;
    TF_RETURN_IF_ERROR(RunPredict(bundle, request, &outputs));
    ++*count;
  }
  return tensorflow::errors::IsOutOfRange(status) ? tensorflow::OkStatus() : status;
}

Status Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool warmup = args.size() >= 2 && args[1] == "--warmup";
  const size_t first_request = warmup ? 2 : 1;
  if (args.empty() || args.size() < first_request || (args.size() - first_request) % 2 != 0) {
    return tensorflow::errors::InvalidArgument(
        "usage: savedmodel_runner DIR [--warmup] [REQUEST.pb OUT_DIR]...");
  }
  const std::string& dir = args[0];
  tensorflow::SavedModelBundle bundle;
  TF_RETURN_IF_ERROR(tensorflow::LoadSavedModel(tensorflow::SessionOptions(), tensorflow::RunOptions(), dir,
                                                {"serve"}, &bundle));
  if (warmup) {  // TF Serving replays the warm-up records before the version becomes AVAILABLE
    int count = 0;
    TF_RETURN_IF_ERROR(Warmup(bundle, dir, &count));
    std::cout << "warmup records: " << count << std::endl;
  }
  for (size_t i = first_request; i < args.size(); i += 2) {
    std::string bytes;
    TF_RETURN_IF_ERROR(tensorflow::ReadFileToString(tensorflow::Env::Default(), args[i], &bytes));
    Request request;
    TF_RETURN_IF_ERROR(ParseRequest(bytes, &request));
    std::vector<std::pair<std::string, tensorflow::Tensor>> outputs;
    TF_RETURN_IF_ERROR(RunPredict(bundle, request, &outputs));
    for (const auto& [alias, tensor] : outputs) {
      tensorflow::TensorProto proto;
      tensor.AsProtoField(&proto);  // as TF Serving's Predict response (kAsProtoField)
      std::string serialized;
      proto.SerializeToString(&serialized);
      TF_RETURN_IF_ERROR(tensorflow::WriteStringToFile(tensorflow::Env::Default(),
                                                       args[i + 1] + "/" + alias + ".pb", serialized));
    }
  }
  return tensorflow::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const Status status = Main(argc, argv);
  if (!status.ok()) {
    std::cerr << status.ToString() << std::endl;
    return 1;
  }
  return 0;
}

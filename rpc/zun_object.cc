#include "rpc/zun_object.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "db/container_fields.h"

namespace zun::rpc {
namespace {

using capsule::ContainerRecord;
using capsule::ContainerType;
using Json = nlohmann::json;

constexpr const char* kName = "zun_object.name";
constexpr const char* kNs = "zun_object.namespace";
constexpr const char* kVersion = "zun_object.version";
constexpr const char* kData = "zun_object.data";

// Reads typed fields out of a primitive's data, recording the first error.
class FieldReader {
 public:
  FieldReader(const Json& data, std::string object)
      : data_(data), object_(std::move(object)) {}

  const absl::Status& status() const { return status_; }

  const Json* Get(const char* key) {
    auto it = data_.find(key);
    if (it == data_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(const char* key, const char* want) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat(object_, " field '", key, "' must be ", want));
    }
  }
  void Str(const char* key, std::optional<std::string>* out) {
    if (const Json* v = Get(key)) {
      if (v->is_string())
        *out = v->get<std::string>();
      else
        Fail(key, "a string");
    }
  }
  void Str(const char* key, std::string* out) {
    std::optional<std::string> s;
    Str(key, &s);
    if (s) *out = *s;
  }
  void Bool(const char* key, bool* out) {
    if (const Json* v = Get(key)) {
      if (v->is_boolean())
        *out = v->get<bool>();
      else
        Fail(key, "a boolean");
    }
  }
  void Int(const char* key, std::optional<int64_t>* out) {
    if (const Json* v = Get(key)) {
      if (v->is_number_integer())
        *out = v->get<int64_t>();
      else
        Fail(key, "an integer");
    }
  }
  void Float(const char* key, std::optional<double>* out) {
    if (const Json* v = Get(key)) {
      if (v->is_number())
        *out = v->get<double>();
      else
        Fail(key, "a number");
    }
  }
  void StrList(const char* key, std::vector<std::string>* out) {
    if (const Json* v = Get(key)) {
      if (!v->is_array()) return Fail(key, "a list of strings");
      for (const auto& s : *v) {
        if (!s.is_string()) return Fail(key, "a list of strings");
        out->push_back(s.get<std::string>());
      }
    }
  }
  void IntList(const char* key, std::vector<int64_t>* out) {
    if (const Json* v = Get(key)) {
      if (!v->is_array()) return Fail(key, "a list of integers");
      for (const auto& s : *v) {
        if (!s.is_number_integer()) return Fail(key, "a list of integers");
        out->push_back(s.get<int64_t>());
      }
    }
  }
  void StrDict(const char* key, capsule::StringMap* out) {
    if (const Json* v = Get(key)) {
      if (!v->is_object()) return Fail(key, "a dict of strings");
      for (const auto& [k, s] : v->items()) {
        if (!s.is_string()) return Fail(key, "a dict of strings");
        (*out)[k] = s.get<std::string>();
      }
    }
  }
  // JsonField: a JSON string (decoded), or already a value.
  void JsonField(const char* key, Json* out) {
    if (const Json* v = Get(key)) {
      if (v->is_string()) {
        Json j = Json::parse(v->get<std::string>(), nullptr, false);
        if (j.is_discarded()) return Fail(key, "a JSON string");
        *out = std::move(j);
      } else {
        *out = *v;
      }
    }
  }
  void Time(const char* key, std::optional<absl::Time>* out) {
    if (const Json* v = Get(key)) {
      if (!v->is_string()) return Fail(key, "a date-time string");
      absl::Time t;
      std::string err;
      const std::string& s = v->get_ref<const std::string&>();
      if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", s, &t, &err) ||
          absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", s, absl::UTCTimeZone(), &t,
                          &err) ||
          absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", s, absl::UTCTimeZone(), &t,
                          &err)) {
        *out = t;
      } else {
        Fail(key, "a date-time string");
      }
    }
  }

 private:
  const Json& data_;
  std::string object_;
  absl::Status status_;
};

absl::StatusOr<ContainerType> TypeOfName(const std::string& name) {
  if (name == "Capsule") return ContainerType::kCapsule;
  if (name == "CapsuleContainer") return ContainerType::kCapsuleContainer;
  if (name == "CapsuleInitContainer")
    return ContainerType::kCapsuleInitContainer;
  if (name == "Container") return ContainerType::kContainer;
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported object '", name, "'"));
}

const char* NameOfType(ContainerType t) {
  switch (t) {
    case ContainerType::kCapsule:
      return "Capsule";
    case ContainerType::kCapsuleContainer:
      return "CapsuleContainer";
    case ContainerType::kCapsuleInitContainer:
      return "CapsuleInitContainer";
    case ContainerType::kContainer:
      return "Container";
  }
  return "Container";
}

OrderedJson JsonFieldOut(const OrderedJson& j) {
  if (j.is_null()) return OrderedJson();
  return OrderedJson(PyDumps(j));
}

// A field's value as the object carries it, by the member's type.
struct ToObject {
  OrderedJson operator()(const int64_t& v) const { return v; }
  OrderedJson operator()(const std::string& v) const { return v; }
  OrderedJson operator()(const ContainerType&) const { return OrderedJson(); }
  OrderedJson operator()(const bool& v) const { return v; }
  OrderedJson operator()(const std::vector<std::string>& v) const { return v; }
  OrderedJson operator()(const std::vector<int64_t>& v) const { return v; }
  OrderedJson operator()(const capsule::StringMap& v) const { return v; }
  OrderedJson operator()(const Json& v) const {
    return OrderedJson::parse(v.dump());
  }
  OrderedJson operator()(const std::optional<absl::Time>& v) const {
    return v ? OrderedJson(FormatObjectTime(*v)) : OrderedJson();
  }
  template <typename T>
  OrderedJson operator()(const std::optional<T>& v) const {
    return v ? OrderedJson(*v) : OrderedJson();
  }
};

// Zun's Cpuset object around {"cpuset_cpus": [...], "cpuset_mems": [...]}.
OrderedJson CpusetOut(const Json& cpuset) {
  OrderedJson p = OrderedJson::object();
  p[kName] = "Cpuset";
  p[kNs] = "zun";
  p[kVersion] = "1.0";
  OrderedJson cd = OrderedJson::object();
  for (const char* key : {"cpuset_cpus", "cpuset_mems"}) {
    cd[key] = cpuset.is_object() && cpuset.contains(key)
                  ? OrderedJson::parse(cpuset[key].dump())
                  : OrderedJson::array();
  }
  p[kData] = std::move(cd);
  return p;
}

OrderedJson EncodeRecord(const ContainerRecord& r, std::string_view version) {
  const bool child = r.container_type == ContainerType::kCapsuleContainer ||
                     r.container_type == ContainerType::kCapsuleInitContainer;
  OrderedJson d = OrderedJson::object();
  for (const db::Field& f : db::ContainerFields()) {
    const std::string key(f.name);
    switch (f.object) {
      case db::ObjectForm::kNone:
        break;
      case db::ObjectForm::kChildOnly:
        if (child) d[key] = db::VisitField(f, r, ToObject{});
        break;
      case db::ObjectForm::kPlain:
        d[key] = db::VisitField(f, r, ToObject{});
        break;
      case db::ObjectForm::kJsonField:
        d[key] = JsonFieldOut(db::VisitField(f, r, ToObject{}));
        break;
      case db::ObjectForm::kCpuset:
        d[key] = CpusetOut(r.cpuset);
        break;
    }
  }
  OrderedJson p = OrderedJson::object();
  p[kName] = NameOfType(r.container_type);
  p[kNs] = "zun";
  p[kVersion] = std::string(version);
  p[kData] = std::move(d);
  return p;
}

// Reads a field out of the object, by the member's type.
struct FromObject {
  FieldReader& f;
  const char* key;
  void operator()(int64_t& m) const {
    std::optional<int64_t> v;
    f.Int(key, &v);
    m = v.value_or(0);
  }
  void operator()(std::string& m) const { f.Str(key, &m); }
  void operator()(ContainerType&) const {}
  void operator()(std::optional<int64_t>& m) const { f.Int(key, &m); }
  void operator()(std::optional<std::string>& m) const { f.Str(key, &m); }
  void operator()(std::optional<double>& m) const { f.Float(key, &m); }
  void operator()(bool& m) const { f.Bool(key, &m); }
  void operator()(std::vector<std::string>& m) const { f.StrList(key, &m); }
  void operator()(std::vector<int64_t>& m) const { f.IntList(key, &m); }
  void operator()(capsule::StringMap& m) const { f.StrDict(key, &m); }
  void operator()(Json& m) const { f.JsonField(key, &m); }
  void operator()(std::optional<absl::Time>& m) const { f.Time(key, &m); }
};

}  // namespace

std::string FormatObjectTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<ObjectHeader> PeekObject(const nlohmann::json& p) {
  if (!p.is_object()) return absl::InvalidArgumentError("object is not a dict");
  auto name = p.find(kName);
  auto ns = p.find(kNs);
  auto ver = p.find(kVersion);
  if (name == p.end() || !name->is_string() || ver == p.end() ||
      !ver->is_string()) {
    return absl::InvalidArgumentError(
        "not a zun_object primitive (no zun_object.name/version)");
  }
  ObjectHeader h{name->get<std::string>(),
                 ns != p.end() && ns->is_string() ? ns->get<std::string>() : "",
                 ver->get<std::string>()};
  if (h.ns != "zun") {
    return absl::InvalidArgumentError(
        absl::StrCat("object namespace '", h.ns, "' is not 'zun'"));
  }
  return h;
}

absl::StatusOr<ContainerRecord> DecodeContainerRecord(const nlohmann::json& p) {
  absl::StatusOr<ObjectHeader> h = PeekObject(p);
  if (!h.ok()) return h.status();
  absl::StatusOr<ContainerType> type = TypeOfName(h->name);
  if (!type.ok()) return type.status();
  std::vector<std::string> ver = absl::StrSplit(h->version, '.');
  if (ver.empty() || ver[0] != "1") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported ", h->name, " version '", h->version, "'"));
  }
  auto data = p.find(kData);
  if (data == p.end() || !data->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(h->name, " has no data dict"));
  }
  ContainerRecord r;
  r.container_type = *type;
  FieldReader f(*data, h->name);
  for (const db::Field& field : db::ContainerFields()) {
    const std::string key(field.name);
    if (field.object == db::ObjectForm::kNone) continue;
    if (field.object == db::ObjectForm::kCpuset) {
      if (const Json* cs = f.Get(key.c_str())) {
        auto cd = cs->find(kData);
        if (cs->is_object() && cd != cs->end() && cd->is_object()) {
          r.cpuset = *cd;
        }
      }
      continue;
    }
    db::VisitField(field, r, FromObject{f, key.c_str()});
  }
  if (!f.status().ok()) return f.status();
  if (r.uuid.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(h->name, " has no uuid"));
  }
  return r;
}

absl::StatusOr<capsule::Capsule> DecodeCapsule(const nlohmann::json& p) {
  absl::StatusOr<ContainerRecord> rec = DecodeContainerRecord(p);
  if (!rec.ok()) return rec.status();
  if (rec->container_type != ContainerType::kCapsule) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a Capsule, got ", NameOfType(rec->container_type)));
  }
  capsule::Capsule c;
  c.record = *std::move(rec);
  const Json& data = p[kData];
  struct Child {
    const char* key;
    std::vector<ContainerRecord>* out;
  };
  for (Child ch : {Child{"init_containers", &c.init_containers},
                   Child{"containers", &c.containers}}) {
    auto it = data.find(ch.key);
    if (it == data.end() || it->is_null()) continue;
    if (!it->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Capsule field '", ch.key, "' must be a list"));
    }
    for (const auto& item : *it) {
      absl::StatusOr<ContainerRecord> r = DecodeContainerRecord(item);
      if (!r.ok()) return r.status();
      ch.out->push_back(*std::move(r));
    }
  }
  return c;
}

OrderedJson EncodeCapsule(const capsule::Capsule& capsule,
                          std::string_view version) {
  OrderedJson p = EncodeRecord(capsule.record, version);
  OrderedJson containers = OrderedJson::array();
  for (const auto& c : capsule.containers)
    containers.push_back(EncodeRecord(c, kCapsuleVersion));
  OrderedJson inits = OrderedJson::array();
  for (const auto& c : capsule.init_containers)
    inits.push_back(EncodeRecord(c, kCapsuleVersion));
  p[kData]["containers"] = std::move(containers);
  p[kData]["init_containers"] = std::move(inits);
  return p;
}

OrderedJson EmptyPciDevicePoolList() {
  OrderedJson p = OrderedJson::object();
  p[kName] = "PciDevicePoolList";
  p[kNs] = "zun";
  p[kVersion] = kPciDevicePoolListVersion;
  p[kData] = OrderedJson{{"objects", OrderedJson::array()}};
  p["zun_object.changes"] = OrderedJson::array({"objects"});
  return p;
}

}  // namespace zun::rpc

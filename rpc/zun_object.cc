#include "rpc/zun_object.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

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

OrderedJson JsonFieldOut(const Json& j) {
  if (j.is_null()) return OrderedJson();
  return OrderedJson(PyDumps(OrderedJson::parse(j.dump())));
}

template <typename T>
OrderedJson Opt(const std::optional<T>& v) {
  return v ? OrderedJson(*v) : OrderedJson();
}

OrderedJson EncodeRecord(const ContainerRecord& r, std::string_view version) {
  OrderedJson d = OrderedJson::object();
  d["id"] = r.id;
  d["container_id"] = Opt(r.container_id);
  d["uuid"] = r.uuid;
  d["name"] = Opt(r.name);
  d["project_id"] = Opt(r.project_id);
  d["user_id"] = Opt(r.user_id);
  d["image"] = Opt(r.image);
  d["cpu"] = Opt(r.cpu);
  d["cpu_policy"] = Opt(r.cpu_policy);
  OrderedJson cpuset = OrderedJson::object();
  cpuset[kName] = "Cpuset";
  cpuset[kNs] = "zun";
  cpuset[kVersion] = "1.0";
  OrderedJson cd = OrderedJson::object();
  cd["cpuset_cpus"] = r.cpuset.is_object() && r.cpuset.contains("cpuset_cpus")
                          ? OrderedJson::parse(r.cpuset["cpuset_cpus"].dump())
                          : OrderedJson();
  cd["cpuset_mems"] = r.cpuset.is_object() && r.cpuset.contains("cpuset_mems")
                          ? OrderedJson::parse(r.cpuset["cpuset_mems"].dump())
                          : OrderedJson();
  cpuset[kData] = cd;
  d["cpuset"] = cpuset;
  d["memory"] = Opt(r.memory);
  d["command"] = r.command;
  d["status"] = Opt(r.status);
  d["status_reason"] = Opt(r.status_reason);
  d["task_state"] = Opt(r.task_state);
  d["environment"] = r.environment;
  d["workdir"] = Opt(r.workdir);
  d["auto_remove"] = r.auto_remove;
  d["ports"] = r.ports;
  d["hostname"] = Opt(r.hostname);
  d["labels"] = r.labels;
  d["addresses"] = JsonFieldOut(r.addresses);
  d["image_pull_policy"] = Opt(r.image_pull_policy);
  d["host"] = Opt(r.host);
  d["restart_policy"] = r.restart_policy;
  d["status_detail"] = Opt(r.status_detail);
  d["interactive"] = r.interactive;
  d["tty"] = r.tty;
  d["image_driver"] = Opt(r.image_driver);
  d["websocket_url"] = Opt(r.websocket_url);
  d["websocket_token"] = Opt(r.websocket_token);
  d["security_groups"] = r.security_groups;
  d["runtime"] = Opt(r.runtime);
  d["disk"] = Opt(r.disk);
  d["auto_heal"] = r.auto_heal;
  d["started_at"] = r.started_at ? OrderedJson(FormatObjectTime(*r.started_at))
                                 : OrderedJson();
  d["exposed_ports"] = JsonFieldOut(r.exposed_ports);
  d["privileged"] = r.privileged;
  d["healthcheck"] = JsonFieldOut(r.healthcheck);
  d["registry_id"] = Opt(r.registry_id);
  d["annotations"] = JsonFieldOut(r.annotations);
  d["cni_metadata"] = JsonFieldOut(r.cni_metadata);
  d["entrypoint"] = r.entrypoint;
  if (r.container_type == ContainerType::kCapsuleContainer ||
      r.container_type == ContainerType::kCapsuleInitContainer) {
    d["capsule_id"] = Opt(r.capsule_id);
  }
  d["created_at"] = r.created_at ? OrderedJson(FormatObjectTime(*r.created_at))
                                 : OrderedJson();
  d["updated_at"] = r.updated_at ? OrderedJson(FormatObjectTime(*r.updated_at))
                                 : OrderedJson();
  OrderedJson p = OrderedJson::object();
  p[kName] = NameOfType(r.container_type);
  p[kNs] = "zun";
  p[kVersion] = std::string(version);
  p[kData] = std::move(d);
  return p;
}

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
  std::optional<int64_t> id;
  f.Int("id", &id);
  r.id = id.value_or(0);
  f.Str("uuid", &r.uuid);
  f.Str("container_id", &r.container_id);
  f.Str("name", &r.name);
  f.Str("project_id", &r.project_id);
  f.Str("user_id", &r.user_id);
  f.Str("image", &r.image);
  f.Float("cpu", &r.cpu);
  f.Str("cpu_policy", &r.cpu_policy);
  f.Str("memory", &r.memory);
  f.StrList("command", &r.command);
  f.StrList("entrypoint", &r.entrypoint);
  f.Str("status", &r.status);
  f.Str("status_reason", &r.status_reason);
  f.Str("status_detail", &r.status_detail);
  f.Str("task_state", &r.task_state);
  f.StrDict("environment", &r.environment);
  f.Str("workdir", &r.workdir);
  f.IntList("ports", &r.ports);
  f.Str("hostname", &r.hostname);
  f.StrDict("labels", &r.labels);
  f.Str("image_pull_policy", &r.image_pull_policy);
  f.Str("host", &r.host);
  f.StrDict("restart_policy", &r.restart_policy);
  f.Bool("interactive", &r.interactive);
  f.Bool("tty", &r.tty);
  f.Bool("privileged", &r.privileged);
  f.Bool("auto_remove", &r.auto_remove);
  f.Bool("auto_heal", &r.auto_heal);
  f.Str("image_driver", &r.image_driver);
  f.Str("websocket_url", &r.websocket_url);
  f.Str("websocket_token", &r.websocket_token);
  f.StrList("security_groups", &r.security_groups);
  f.Str("runtime", &r.runtime);
  f.Int("disk", &r.disk);
  f.Int("registry_id", &r.registry_id);
  f.Int("capsule_id", &r.capsule_id);
  f.JsonField("addresses", &r.addresses);
  f.JsonField("exposed_ports", &r.exposed_ports);
  f.JsonField("healthcheck", &r.healthcheck);
  f.JsonField("annotations", &r.annotations);
  f.JsonField("cni_metadata", &r.cni_metadata);
  f.Time("started_at", &r.started_at);
  f.Time("created_at", &r.created_at);
  f.Time("updated_at", &r.updated_at);
  if (const Json* cs = f.Get("cpuset")) {
    auto cd = cs->find(kData);
    if (cs->is_object() && cd != cs->end() && cd->is_object()) r.cpuset = *cd;
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

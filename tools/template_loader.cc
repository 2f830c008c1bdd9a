#include "tools/template_loader.h"

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "tools/yaml11_scalar.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace zun::tools {
namespace {

using Json = TemplateJson;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("template: ", AV(what)));
}

// PyYAML's reader refuses anything outside this set.
absl::Status CheckYamlCharacters(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    char32_t c = 0;
    if (!NextCodePoint(text, &i, &c)) {
      return Bad("'utf-8' codec can't decode the text (invalid UTF-8)");
    }
    if (!(c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0x7E) ||
          c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) ||
          (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000)) {
      return Bad(absl::StrFormat(
          "unacceptable character #x%04x: special characters are not allowed",
          static_cast<uint32_t>(c)));
    }
  }
  return absl::OkStatus();
}

// json.dumps's spelling of a non-string key.
std::string KeyText(const Json& k) {
  if (k.is_string()) return k.get<std::string>();
  if (k.is_boolean()) return k.get<bool>() ? "true" : "false";
  if (k.is_null()) return "null";
  return PyRepr(k);
}

class YamlReader {
 public:
  absl::StatusOr<Json> Read(const YAML::Node& n, int depth) {
    if (depth > kMaxTemplateDepth) return Bad("nested too deeply");
    if (++values_ > kMaxTemplateValues) {
      return Bad(absl::StrCat("more than ", kMaxTemplateValues, " values"));
    }
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return Json(nullptr);
      case YAML::NodeType::Scalar:
        return ResolveYamlScalar(n.Scalar(), n.Tag());
      case YAML::NodeType::Sequence: {
        ZUN_RETURN_IF_ERROR(CollectionTag(n, "seq"));
        Json out = Json::array();
        for (const YAML::Node& item : n) {
          ZUN_ASSIGN_OR_RETURN(Json v, Read(item, depth + 1));
          out.push_back(std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map:
        ZUN_RETURN_IF_ERROR(CollectionTag(n, "map"));
        return Map(n, depth);
    }
    return Bad("unknown YAML node");
  }

 private:
  // !!set, !!omap, !!pairs and local tags make values JSON cannot carry.
  static absl::Status CollectionTag(const YAML::Node& n,
                                    std::string_view kind) {
    const std::string& tag = n.Tag();
    if (tag == "?" || tag == "!" || tag.empty() ||
        tag == absl::StrCat("tag:yaml.org,2002:", AV(kind))) {
      return absl::OkStatus();
    }
    return Bad(absl::StrCat("the tag '", tag,
                            "' makes a value the zun client cannot send"));
  }

  // PyYAML reads "=" as a string key, and json.dumps writes inf and nan
  // keys as Infinity, -Infinity and NaN.
  absl::StatusOr<Json> Key(const YAML::Node& k, int depth) {
    if (k.IsScalar() && k.Tag() == "?") {
      const std::string& s = k.Scalar();
      if (s == "=") return Json("=");
      if (std::optional<std::string> key = NonFiniteKey(s)) return Json(*key);
    }
    return Read(k, depth + 1);
  }

  static bool IsMergeKey(const YAML::Node& k) {
    return k.IsScalar() && k.Tag() == "?" && k.Scalar() == "<<";
  }

  absl::StatusOr<Json> Map(const YAML::Node& n, int depth) {
    Json out = Json::object();
    // PyYAML's flatten_mapping: merged pairs first (of a list of mappings,
    // the last one first), then the mapping's own pairs.
    for (const auto& kv : n) {
      if (!IsMergeKey(kv.first)) continue;
      std::vector<YAML::Node> sources;
      if (kv.second.IsMap()) {
        sources.push_back(kv.second);
      } else if (kv.second.IsSequence()) {
        for (const YAML::Node& m : kv.second) {
          if (!m.IsMap()) return Bad("a merge key (<<) needs mappings");
          sources.insert(sources.begin(), m);
        }
      }
      if (sources.empty()) return Bad("a merge key (<<) needs mappings");
      for (const YAML::Node& m : sources) {
        ZUN_ASSIGN_OR_RETURN(Json merged, Read(m, depth + 1));
        for (auto& [k, v] : merged.items()) out[k] = v;
      }
    }
    for (const auto& kv : n) {
      if (IsMergeKey(kv.first)) continue;
      if (kv.first.IsMap() || kv.first.IsSequence()) {
        return Bad("found unhashable key (a mapping or a list as a key)");
      }
      ZUN_ASSIGN_OR_RETURN(const Json key, Key(kv.first, depth));
      ZUN_ASSIGN_OR_RETURN(Json value, Read(kv.second, depth + 1));
      out[KeyText(key)] = std::move(value);
    }
    return out;
  }

  size_t values_ = 0;
};

class IgnoreEvents : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

struct TooDeep {};

absl::StatusOr<Json> LoadJson(const std::string& text) {
  try {
    Json j = Json::parse(text, [](int depth, Json::parse_event_t, Json&) {
      if (depth > kMaxTemplateDepth) throw TooDeep{};
      return true;
    });
    // json.loads gives Python ints of any size; ours stop at int64.
    std::vector<const Json*> todo = {&j};
    while (!todo.empty()) {
      const Json* v = todo.back();
      todo.pop_back();
      if (v->is_number_unsigned() &&
          v->get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
        return Bad(absl::StrCat("the integer ", v->dump(), " is out of range"));
      }
      if (v->is_number_float() && !std::isfinite(v->get<double>())) {
        return Bad("a number is not finite");
      }
      if (v->is_structured()) {
        for (const Json& child : *v) todo.push_back(&child);
      }
    }
    return j;
  } catch (const TooDeep&) {
    return Bad("nested too deeply");
  } catch (const std::exception& e) {
    return Bad(absl::StrCat("not valid JSON: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<TemplateJson> LoadTemplateDocument(std::string_view text) {
  // Python's str.strip(), then the client's JSON-or-YAML test.
  constexpr std::string_view kSpace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return Json::object();
  text = text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  if (text[0] == '{') return LoadJson(std::string(text));
  ZUN_RETURN_IF_ERROR(CheckYamlCharacters(text));
  try {
    const std::string yaml(text);
    // Not YAML::LoadAll: yaml-cpp 0.7's never ends on a stray ',' at
    // document level. YAML::Load reads the first document and ignores the
    // rest, so count documents with a parser that stops at the second.
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    IgnoreEvents ignore;
    if (parser.HandleNextDocument(ignore) &&
        parser.HandleNextDocument(ignore)) {
      return Bad("expected a single document in the stream, found more");
    }
    const YAML::Node doc = YAML::Load(yaml);
    if (doc.IsNull()) return Json::object();
    return YamlReader().Read(doc, 0);
  } catch (const std::exception& e) {
    return Bad(absl::StrCat("not valid YAML: ", e.what()));
  }
}

}  // namespace zun::tools

#include "transport/net_plugin/net_plugin_loader.h"

#include <dlfcn.h>
#include <link.h>
#include <strings.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "transport/net_plugin/net_plugin_ops.h"

namespace tccl {
namespace {

constexpr const char* kDefaultPlugin = "libnccl-net.so";
constexpr const char* kPrefix = "libnccl-net";

struct DlCloser {
  void operator()(void* handle) const { dlclose(handle); }
};

// Plugins whose init was called, by dlopen handle: the same library opened again (another
// communicator, or another spelling of its name) is the same plugin, initialized once. One
// whose init failed stays failed for the process, as in NCCL.
struct Initialized {
  std::shared_ptr<NetPlugin> net;  // null when init failed
  std::string failure;
};
std::mutex gRegistryMutex;
std::map<void*, Initialized>& registry() {
  static std::map<void*, Initialized> plugins;
  return plugins;
}

bool endsWith(const std::string& s, const char* suffix) {
  const size_t n = strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    if (comma > pos) out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

struct Opened {
  std::shared_ptr<void> handle;
  std::string path;  // as the dynamic loader resolved it
};

std::string loadedPath(void* handle, const std::string& fallback) {
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name)
    return map->l_name;
  return fallback;
}

// Opens `file`; on failure says why and whether it was simply absent.
bool tryOpen(const std::string& file, Opened* out, std::string* why, bool* notFound) {
  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    *why = err ? err : "dlopen failed";
    *notFound = why->find("No such file or directory") != std::string::npos;
    return false;
  }
  out->handle = std::shared_ptr<void>(handle, DlCloser{});
  out->path = loadedPath(handle, file);
  return true;
}

// NCCL's name resolution (plugin_open.cc): the entry as given, then libnccl-net-<entry>.so
// unless the entry is a path or already a "lib*.so" name.
bool openPluginLibrary(const std::string& entry, Opened* out, std::string* why, bool* notFound) {
  std::string whyLiteral;
  bool absentLiteral = false;
  if (tryOpen(entry, out, &whyLiteral, &absentLiteral)) return true;
  const bool tryPrefixed = entry.find('/') == std::string::npos &&
                           !(entry.rfind("lib", 0) == 0 && endsWith(entry, ".so"));
  if (!tryPrefixed) {
    *why = absentLiteral ? "not found" : whyLiteral;
    *notFound = absentLiteral;
    return false;
  }
  const std::string prefixed = std::string(kPrefix) + "-" + entry + ".so";
  std::string whyPrefixed;
  bool absentPrefixed = false;
  if (tryOpen(prefixed, out, &whyPrefixed, &absentPrefixed)) return true;
  *notFound = absentLiteral && absentPrefixed;
  if (*notFound)
    *why = "could not find " + entry + " nor " + prefixed;
  else
    *why = absentPrefixed ? whyLiteral : whyPrefixed;
  return false;
}

// The newest supported table; otherwise why none fits (a version too new or too old).
std::unique_ptr<NetOps> findNewestTable(void* handle, std::string* why) {
  for (const auto& abi : netabi::kAbiSymbols)
    if (void* table = dlsym(handle, abi.symbol)) return makeNetOps(abi.version, table);
  std::string found;
  for (int v : {11, 12, 5, 4, 3, 2}) {
    const std::string symbol = "ncclNetPlugin_v" + std::to_string(v);
    if (dlsym(handle, symbol.c_str())) found += (found.empty() ? "" : ", ") + symbol;
  }
  *why = "exports none of ncclNetPlugin_v10 ... ncclNetPlugin_v6";
  if (!found.empty()) *why += " (only " + found + ", which TCCL does not read)";
  return nullptr;
}

void logDevices(const NetPlugin& net) {
  INFO(kLogInit | kLogNet, "NET/Plugin: initialized %s (ABI v%d, %s): %d device(s)",
       net.name().c_str(), net.abiVersion(), net.library().c_str(), net.deviceCount());
  for (int d = 0; d < net.deviceCount(); ++d) {
    const NetDeviceProperties& p = net.device(d);
    INFO(kLogInit | kLogNet, "NET/%s : %s", net.name().c_str(), describeNetDevice(d, p).c_str());
    if (p.netDeviceType != netabi::kDeviceHost)
      INFO(kLogInit | kLogNet,
           "NET/%s : dev %d offers device offload type %d; TCCL drives it from the host",
           net.name().c_str(), d, p.netDeviceType);
  }
}

struct Failure {
  std::string library;
  std::string why;
};

enum class Outcome { kUsed, kSkipped, kFailed };

// Loads and initializes one NCCL_NET_PLUGIN entry (or the default library).
Outcome tryCandidate(const std::string& entry, bool isDefault, const std::string& wantedNet,
                     std::shared_ptr<NetPlugin>* out, Failure* failure) {
  Opened lib;
  std::string why;
  bool notFound = false;
  failure->library = entry;
  if (!openPluginLibrary(entry, &lib, &why, &notFound)) {
    if (isDefault && notFound) {
      INFO(kLogInit | kLogNet, "NET/Plugin: Could not find: %s", entry.c_str());
      failure->why = "not found";
      return Outcome::kSkipped;
    }
    failure->why = why;
    return Outcome::kFailed;
  }
  failure->library = lib.path;
  if (auto it = registry().find(lib.handle.get()); it != registry().end()) {
    if (!it->second.net) {
      failure->why = it->second.failure;
      return Outcome::kFailed;
    }
    std::shared_ptr<NetPlugin> known = it->second.net;
    if (!wantedNet.empty() && strcasecmp(wantedNet.c_str(), known->name().c_str()) != 0) {
      INFO(kLogInit | kLogNet, "NET/Plugin: %s skipped: NCCL_NET=%s", known->name().c_str(),
           wantedNet.c_str());
      failure->why = "its network is " + known->name();
      return Outcome::kSkipped;
    }
    INFO(kLogInit | kLogNet, "NET/Plugin: %s (ABI v%d) from %s, already initialized",
         known->name().c_str(), known->abiVersion(), known->library().c_str());
    *out = std::move(known);
    return Outcome::kUsed;
  }
  std::unique_ptr<NetOps> ops = findNewestTable(lib.handle.get(), &failure->why);
  if (!ops) return Outcome::kFailed;
  const int version = ops->version();
  if (const char* missing = ops->missingFunction()) {
    failure->why = "its ncclNetPlugin_v" + std::to_string(version) + " has no " + missing;
    return Outcome::kFailed;
  }
  const std::string name = ops->name();
  INFO(kLogInit | kLogNet, "NET/Plugin: Loaded net plugin %s (v%d) from %s", name.c_str(), version,
       lib.path.c_str());
  if (!wantedNet.empty() && strcasecmp(wantedNet.c_str(), name.c_str()) != 0) {
    INFO(kLogInit | kLogNet, "NET/Plugin: %s skipped: NCCL_NET=%s", name.c_str(),
         wantedNet.c_str());
    failure->why = "its network is " + name;
    return Outcome::kSkipped;
  }
  void* handle = lib.handle.get();
  auto net = std::make_shared<NetPlugin>(lib.handle, lib.path, std::move(ops));
  const ncclResult_t res = net->initialize(&why);
  // Once init has run, the library may hold threads or state of its own: it is never unloaded
  // (see the header), whatever dlclose calls follow.
  dlopen(lib.path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  if (res != ncclSuccess) {
    failure->why =
        "plugin " + name + " (v" + std::to_string(version) + ") failed to initialize: " + why;
    registry()[handle] = Initialized{nullptr, failure->why};
    return Outcome::kFailed;
  }
  registry()[handle] = Initialized{net, ""};
  logDevices(*net);
  *out = std::move(net);
  return Outcome::kUsed;
}

}  // namespace

NetPluginEnv readNetPluginEnv() {
  NetPluginEnv env;
  if (const char* p = getenv("NCCL_NET_PLUGIN")) {
    env.pluginSet = true;
    env.plugin = p;
  }
  if (const char* n = getenv("NCCL_NET")) env.net = n;
  return env;
}

ncclResult_t chooseNetwork(const NetPluginEnv& env, NetworkChoice* out) {
  *out = NetworkChoice{};
  const bool wantSocket = strcasecmp(env.net.c_str(), kBuiltinNetName) == 0;
  if (env.pluginSet)
    INFO(kLogEnv | kLogNet, "NCCL_NET_PLUGIN set by environment to %s", env.plugin.c_str());
  if (!env.net.empty())
    INFO(kLogEnv | kLogNet, "NCCL_NET set by environment to %s", env.net.c_str());

  std::vector<std::string> entries;
  if (!env.pluginSet)
    entries.push_back(kDefaultPlugin);
  else if (strcasecmp(env.plugin.c_str(), "none") != 0)
    entries = splitList(env.plugin);
  if (env.pluginSet && entries.empty())
    INFO(kLogInit | kLogNet, "NET/Plugin: NCCL_NET_PLUGIN=%s: no net plugin is loaded",
         env.plugin.c_str());
  if (wantSocket) {
    INFO(kLogInit | kLogNet, "NET/Plugin: NCCL_NET=%s: TCCL's own transport, no plugin loaded",
         env.net.c_str());
    entries.clear();
  }

  // Without NCCL_NET a failure is only ever a fallback: said at once. Under NCCL_NET it may
  // turn into the error, which then says it instead.
  const bool mayFail = !env.net.empty() && !wantSocket;
  std::vector<Failure> failures, skipped;
  {
    std::lock_guard<std::mutex> lock(gRegistryMutex);
    for (size_t i = 0; i < entries.size() && !out->plugin; ++i) {
      Failure failure;
      switch (tryCandidate(entries[i], !env.pluginSet, env.net, &out->plugin, &failure)) {
        case Outcome::kUsed:
          break;
        case Outcome::kSkipped:
          skipped.push_back(std::move(failure));
          break;
        case Outcome::kFailed:
          if (!mayFail)
            WARN("NET/Plugin: cannot use %s: %s; %s", failure.library.c_str(), failure.why.c_str(),
                 i + 1 < entries.size() ? "trying the next plugin"
                                        : "NIC hops use TCCL's own Socket transport");
          failures.push_back(std::move(failure));
          break;
      }
    }
  }

  if (mayFail && !out->plugin) {
    std::string tried;
    for (const auto* list : {&failures, &skipped})
      for (const Failure& f : *list) tried += "; " + f.library + ": " + f.why;
    if (entries.empty()) tried = "; no net plugin was loaded (NCCL_NET_PLUGIN=" + env.plugin + ")";
    return setError(ncclInvalidUsage,
                    "NCCL_NET=%s: no network of that name can be used (TCCL's own is %s)%s",
                    env.net.c_str(), kBuiltinNetName, tried.c_str());
  }
  if (mayFail)
    for (const Failure& f : failures)
      WARN("NET/Plugin: cannot use %s: %s; %s is used", f.library.c_str(), f.why.c_str(),
           out->name().c_str());
  INFO(kLogInit | kLogNet, "Using network %s", out->name().c_str());
  return ncclSuccess;
}

}  // namespace tccl

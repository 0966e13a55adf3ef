#include <iomanip>
#include <sstream>

#include "db/db_report.h"

namespace tccl::db {
namespace {

// "0 -p2p_write/kernel-> 1 -bounce@numa1(kernel->copy_engine)-> 2 ..."
std::string path(const Channel& ch, bool ring) {
  std::ostringstream out;
  for (size_t i = 0; i < ch.order.size(); ++i) {
    out << "GPU" << ch.order[i];
    if (i < ch.hops.size()) out << " -[" << describeHop(ch.hops[i]) << "]-> ";
  }
  if (ring && !ch.hops.empty()) out << "GPU" << ch.order[0];
  return out.str();
}

const char* unproven(bool proven) {
  return proven ? "" : "  UNPROVEN: the search stopped at its node limit (--max-nodes)";
}

}  // namespace

std::string showDatabase(const Database& db, const std::string& nodeName) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2);
  const Provenance& p = db.provenance;
  out << "database version " << db.version << ", written by " << p.tool << " " << p.toolVersion
      << " (profiler " << p.profiler << ", " << p.date << ", topology " << p.topology << ")\n";
  for (const NodeType& n : db.nodes) {
    if (!nodeName.empty() && n.name != nodeName) continue;
    const NodeSignature& s = n.signature;
    out << "\nnode type '" << n.name << "': " << describeSignature(s) << "\n";
    if (s.cpuModel.empty() && !s.gpus.empty() && s.gpus[0].busId.empty())
      out << "  (no hardware identity: matches any node with " << s.gpus.size() << " GPUs and "
          << s.numaCount << " NUMA nodes)\n";
    for (size_t i = 0; i < s.gpus.size(); ++i)
      out << "  GPU" << i << "  " << (s.gpus[i].busId.empty() ? "-" : s.gpus[i].busId) << "  "
          << (s.gpus[i].model.empty() ? "-" : s.gpus[i].model) << "  NUMA " << s.gpus[i].numa
          << "\n";
    for (size_t i = 0; i < s.nics.size(); ++i)
      out << "  NIC" << i << "  " << s.nics[i].name << "  NUMA " << s.nics[i].numa << "\n";
    for (const IntraEntry& e : n.intra) {
      out << "  intra " << listGpus(e.gpus, "{}") << ": " << e.gbps << " GB/s, "
          << e.channels.size() << " channel(s)" << unproven(e.proven) << "\n";
      for (size_t c = 0; c < e.channels.size(); ++c)
        out << "    ch" << c << " " << std::setw(8) << e.channels[c].gbps << " GB/s  "
            << path(e.channels[c], true) << "\n";
    }
    for (const InterEntry& e : n.inter) {
      out << "  inter " << listGpus(e.gpus, "{}") << ": " << e.gbps << " GB/s, entry "
          << describeHop(e.entry) << (e.entry.peerGpuDirect ? " (peer gdr)" : " (peer staged)")
          << ", exit " << describeHop(e.exit)
          << (e.exit.peerGpuDirect ? " (peer gdr)" : " (peer staged)") << unproven(e.proven)
          << "\n";
      for (size_t c = 0; c < e.channels.size(); ++c)
        out << "    ch" << c << " " << std::setw(8) << e.channels[c].gbps << " GB/s  NIC -["
            << describeHop(e.entry) << "]-> " << path(e.channels[c], false) << " -["
            << describeHop(e.exit) << "]-> NIC\n";
    }
  }
  return out.str();
}

}  // namespace tccl::db

#include <iomanip>
#include <sstream>

#include "db/db_report.h"

namespace tccl::db {
namespace {

// Escapes text for a DOT double-quoted string (control characters dropped).
std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}
std::string quote(const std::string& s) {
  return '"' + esc(s) + '"';
}

constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                    "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

}  // namespace

std::string drawNodeDot(const NodeType& node, const std::vector<int>& gpus) {
  const NodeSignature& sig = node.signature;
  const IntraEntry* entry = nullptr;
  for (const IntraEntry& e : node.intra) {
    if (!gpus.empty() ? e.gpus == gpus : (!entry || e.gpus.size() > entry->gpus.size())) entry = &e;
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "digraph " << quote(node.name) << " {\n"
      << "  graph [compound=true, fontname=\"Helvetica\", label="
      << quote("node type " + node.name + (sig.cpuModel.empty() ? "" : " (" + sig.cpuModel + ")"))
      << ", labelloc=t];\n"
      << "  node [fontname=\"Helvetica\", shape=box, style=filled, fillcolor=white];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  // The signature does not say which NUMA nodes share a socket, so each NUMA node is drawn as
  // its own CPU cluster with its host memory.
  auto drawMembers = [&](int numa, const std::string& indent) {
    for (size_t g = 0; g < sig.gpus.size(); ++g) {
      if (sig.gpus[g].numa != numa) continue;
      std::string label = "GPU" + std::to_string(g);
      if (!sig.gpus[g].busId.empty()) label += "\\n" + esc(sig.gpus[g].busId);
      if (!sig.gpus[g].model.empty()) label += "\\n" + esc(sig.gpus[g].model);
      out << indent << "gpu" << g << " [label=\"" << label << "\", fillcolor=\"#d9ead3\"];\n";
    }
    for (size_t i = 0; i < sig.nics.size(); ++i)
      if (sig.nics[i].numa == numa)
        out << indent << "nic" << i << " [label=\"NIC" << i << "\\n"
            << esc(sig.nics[i].name) << "\", shape=hexagon, fillcolor=\"#fce5cd\"];\n";
  };
  for (int k = 0; k < sig.numaCount; ++k) {
    out << "  subgraph cluster_numa" << k << " {\n"
        << "    label=\"CPU / NUMA node " << k << "\"; style=rounded; bgcolor=\"#f3f3f3\";\n"
        << "    mem" << k << " [label=\"host memory\\nNUMA " << k
        << "\", shape=cylinder, fillcolor=\"#cfe2f3\"];\n";
    drawMembers(k, "    ");
    out << "  }\n";
  }
  drawMembers(-1, "  ");  // GPUs/NICs whose NUMA node is unknown (imported databases)
  for (int k = 0; k + 1 < sig.numaCount; ++k)
    out << "  mem" << k << " -> mem" << k + 1 << " [dir=none, style=dashed, color=gray, "
        << "label=\"inter-socket\"];\n";
  if (entry) {
    for (size_t c = 0; c < entry->channels.size(); ++c) {
      const Channel& ch = entry->channels[c];
      const char* colour = kColours[c % std::size(kColours)];
      for (size_t i = 0; i < ch.hops.size(); ++i) {
        const int from = ch.order[i], to = ch.order[(i + 1) % ch.order.size()];
        const Hop& h = ch.hops[i];
        std::ostringstream label;
        label << "ch" << c << ": " << describeHop(h);
        if (i == 0) label << "\\n" << ch.gbps << " GB/s";
        if (h.kind == HopKind::kHostBounce && h.numa >= 0) {
          out << "  gpu" << from << " -> mem" << h.numa << " [color=\"" << colour << "\", label=\""
              << label.str() << "\"];\n"
              << "  mem" << h.numa << " -> gpu" << to << " [color=\"" << colour << "\"];\n";
        } else {
          out << "  gpu" << from << " -> gpu" << to << " [color=\"" << colour << "\", label=\""
              << label.str() << "\"" << (h.kind == HopKind::kP2pRead ? ", style=dashed" : "")
              << "];\n";
        }
      }
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace tccl::db

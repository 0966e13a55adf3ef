#include "search/symmetry.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace tccl::pathfinder {
namespace {

enum class NodeKind { kMachine, kSocket, kNuma, kPcie, kGpu, kNic };
struct TreeNode {
  NodeKind kind;
  int index;
};

std::string num(double x) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

class CanonicalTree {
 public:
  // Marks per GPU, NUMA node and NIC: what the problem asks of them.
  CanonicalTree(const topo::Topology& t, std::vector<int> gpuMarks, std::vector<int> numaMarks,
                std::vector<int> nicMarks)
      : t_(t),
        marks_(std::move(gpuMarks)),
        numaMarks_(std::move(numaMarks)),
        nicMarks_(std::move(nicMarks)) {}

  std::string form(TreeNode n) {
    std::vector<std::string> kids;
    for (TreeNode c : children(n)) kids.push_back(form(c));
    std::sort(kids.begin(), kids.end());
    std::string s = label(n) + "(";
    for (const std::string& k : kids) s += k + ",";
    return s + ")";
  }

  // Visits devices and NUMA nodes in canonical order, appending their indices.
  void traverse(TreeNode n, std::vector<int>& gpus, std::vector<int>& numas,
                std::vector<int>& nics) {
    if (n.kind == NodeKind::kGpu) gpus.push_back(n.index);
    if (n.kind == NodeKind::kNuma) numas.push_back(n.index);
    if (n.kind == NodeKind::kNic) nics.push_back(n.index);
    std::vector<std::pair<std::string, TreeNode>> kids;
    for (TreeNode c : children(n)) kids.emplace_back(form(c), c);
    std::stable_sort(kids.begin(), kids.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (auto& [f, c] : kids) traverse(c, gpus, numas, nics);
  }

 private:
  std::string label(TreeNode n) const {
    switch (n.kind) {
      case NodeKind::kMachine:
        return "M";
      case NodeKind::kSocket:
        return 'S' + num(t_.sockets[n.index].linkGbps);
      case NodeKind::kNuma: {
        const topo::NumaNode& k = t_.numaNodes[n.index];
        return 'N' + num(k.memoryGbps) + "/" + num(k.fabricGbps) + "#" +
               std::to_string(numaMarks_[n.index]);
      }
      case NodeKind::kPcie: {
        const topo::PcieNode& p = t_.pcie[n.index];
        return std::string(p.kind == topo::PcieKind::kSwitch ? "W" : "R") + num(p.upGbps) + "/" +
               num(p.downGbps);
      }
      case NodeKind::kGpu: {
        const topo::Gpu& g = t_.gpus[n.index];
        return "G" + g.model + "/" + num(g.upGbps) + "/" + num(g.downGbps) + "#" +
               std::to_string(marks_[n.index]);
      }
      case NodeKind::kNic: {
        const topo::Nic& c = t_.nics[n.index];
        return 'I' + num(c.upGbps) + "/" + num(c.downGbps) + "/" + num(c.wireGbps) +
               (c.gpuDirect ? "g" : "s") + "#" + std::to_string(nicMarks_[n.index]);
      }
    }
    return "?";
  }

  std::vector<TreeNode> children(TreeNode n) const {
    std::vector<TreeNode> out;
    switch (n.kind) {
      case NodeKind::kMachine:
        for (size_t s = 0; s < t_.sockets.size(); ++s) out.push_back({NodeKind::kSocket, int(s)});
        break;
      case NodeKind::kSocket:
        for (size_t k = 0; k < t_.numaNodes.size(); ++k)
          if (t_.numaNodes[k].socket == n.index) out.push_back({NodeKind::kNuma, int(k)});
        break;
      case NodeKind::kNuma:
        for (size_t p = 0; p < t_.pcie.size(); ++p)
          if (t_.pcie[p].kind == topo::PcieKind::kRootPort && t_.pcie[p].numa == n.index)
            out.push_back({NodeKind::kPcie, int(p)});
        break;
      case NodeKind::kPcie:
        for (size_t p = 0; p < t_.pcie.size(); ++p)
          if (t_.pcie[p].parent == n.index) out.push_back({NodeKind::kPcie, int(p)});
        for (size_t g = 0; g < t_.gpus.size(); ++g)
          if (t_.gpus[g].parent == n.index) out.push_back({NodeKind::kGpu, int(g)});
        for (size_t c = 0; c < t_.nics.size(); ++c)
          if (t_.nics[c].parent == n.index) out.push_back({NodeKind::kNic, int(c)});
        break;
      case NodeKind::kGpu:
      case NodeKind::kNic:
        break;
    }
    return out;
  }

  const topo::Topology& t_;
  std::vector<int> marks_, numaMarks_, nicMarks_;
};

std::vector<int> inverse(const std::vector<int>& at) {
  std::vector<int> pos(at.size());
  for (size_t i = 0; i < at.size(); ++i) pos[at[i]] = static_cast<int>(i);
  return pos;
}

}  // namespace

static std::string describeNetHop(const Hop& h) {
  return std::string(h.gpuDirect ? "gdr" : "staged") + "/" + std::string(engineName(h.engine)) +
         "/" + std::string(engineName(h.readEngine));
}

Relabelling canonicalRelabelling(const topo::Topology& topo, std::span<const int> gpus,
                                 const Hop* entry, const Hop* exit) {
  std::vector<int> gpuMarks(topo.gpus.size(), 0), numaMarks(topo.numaNodes.size(), 0),
      nicMarks(topo.nics.size(), 0);
  for (int g : gpus) gpuMarks[g] = 1;
  std::string prefix = entry ? "chain " : "ring ";
  int bit = 1;
  for (const Hop* h : {entry, exit}) {
    if (!h) continue;
    if (h->numa >= 0) numaMarks[h->numa] |= bit;
    if (h->nic >= 0) nicMarks[h->nic] |= bit;
    prefix += describeNetHop(*h) + " ";
    bit <<= 1;
  }
  CanonicalTree tree(topo, std::move(gpuMarks), std::move(numaMarks), std::move(nicMarks));
  Relabelling r;
  TreeNode root{NodeKind::kMachine, 0};
  r.key = prefix + tree.form(root);
  tree.traverse(root, r.gpuAt, r.numaAt, r.nicAt);
  r.gpuPos = inverse(r.gpuAt);
  r.numaPos = inverse(r.numaAt);
  r.nicPos = inverse(r.nicAt);
  return r;
}

}  // namespace tccl::pathfinder

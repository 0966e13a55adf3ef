#include "plan/tree_builder.h"

namespace tccl::db {

std::vector<int> binaryTreeParents(int n) {
  std::vector<int> parent(n > 0 ? n : 0, -1);
  if (n <= 1) return parent;
  // 1-based in-order positions: p's lowest set bit b is its height; its children are p -/+ b/2
  // (the right one shrinks toward p while it falls past n).
  auto lowBit = [](int p) { return p & -p; };
  int root = 1;
  while (root * 2 <= n) root *= 2;
  std::vector<int> stack{root};
  while (!stack.empty()) {
    const int p = stack.back();
    stack.pop_back();
    const int half = lowBit(p) / 2;
    if (half == 0) continue;
    const int left = p - half;
    parent[left - 1] = p - 1;
    stack.push_back(left);
    for (int step = half; step > 0; step /= 2) {
      if (p + step <= n) {
        parent[p + step - 1] = p - 1;
        stack.push_back(p + step);
        break;
      }
    }
  }
  return parent;
}

std::vector<std::vector<int>> doubleBinaryTreeParents(int n) {
  const std::vector<int> first = binaryTreeParents(n);
  std::vector<int> second(first.size(), -1);
  // Position i of the second tree takes node map(i); parents map the same way.
  auto map = [n](int i) { return n % 2 == 0 ? n - 1 - i : (i + 1) % n; };
  for (int i = 0; i < n; ++i) second[map(i)] = first[i] < 0 ? -1 : map(first[i]);
  return {first, second};
}

std::vector<Tree> buildTreesFromChains(const std::vector<std::vector<int>>& chains, int nRanks) {
  const int nNodes = static_cast<int>(chains.size());
  std::vector<std::vector<int>> headTrees;
  if (nNodes <= 1)
    headTrees = {std::vector<int>(nNodes, -1)};
  else
    headTrees = doubleBinaryTreeParents(nNodes);
  std::vector<Tree> trees;
  for (const std::vector<int>& nodeParent : headTrees) {
    Tree tree;
    tree.parent.assign(nRanks, -1);
    tree.children.assign(nRanks, {});
    for (int k = 0; k < nNodes; ++k) {
      const std::vector<int>& chain = chains[k];
      if (chain.empty()) continue;
      if (nodeParent[k] >= 0 && !chains[nodeParent[k]].empty())
        tree.parent[chain.front()] = chains[nodeParent[k]].front();
      for (size_t j = 1; j < chain.size(); ++j) tree.parent[chain[j]] = chain[j - 1];
    }
    // Children in ascending rank order: the same on every rank.
    for (int r = 0; r < nRanks; ++r)
      if (tree.parent[r] >= 0) tree.children[tree.parent[r]].push_back(r);
    trees.push_back(std::move(tree));
  }
  return trees;
}

}  // namespace tccl::db

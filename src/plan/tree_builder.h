// Trees for Tree-algorithm collectives, built from the node chains of a plan.
#pragma once

#include <vector>

#include "plan/plan.h"

namespace tccl::db {

// Parent of each of n positions in an in-order binary tree (root: the largest power of two
// <= n, counting from 1); leaves sit at even 0-based positions. -1 at the root.
std::vector<int> binaryTreeParents(int n);

// The two trees of a double binary tree over n positions: the second is the first mirrored
// (n even) or shifted by one (n odd), so a position that is a leaf in one tree is mostly
// interior in the other.
std::vector<std::vector<int>> doubleBinaryTreeParents(int n);

// chains[k]: node k's ranks in chain order (entry GPU first). Inside a node each rank's parent
// is the one before it in the chain; node heads (chain fronts) form a double binary tree
// (one tree when there is a single node). nRanks sizes the result.
std::vector<Tree> buildTreesFromChains(const std::vector<std::vector<int>>& chains, int nRanks);

}  // namespace tccl::db

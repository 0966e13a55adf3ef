// Import of the original TCCL's merged XML database (TCCL_XML_FILE, `tccl-db import`).
#pragma once

#include <string>
#include <string_view>

#include "db/db_json.h"

namespace tccl::db {

// The node type name an imported file gets unless the caller chooses another.
inline constexpr const char* kImportedNodeName = "tccl-xml";

// Converts `<root><metadata/><intra/><inter/></root>` into a one-node-type database. The XML
// has no hardware identity, so the node type's signature has an empty CPU model and empty bus
// ids: it matches any node with the same GPU and NUMA counts (matchNodeType). Errors name the
// offending element, e.g. "/root/intra/subset[2]/transfers[1]/transfer[3]: ...".
LoadResult importTcclXml(std::string_view xmlText, const std::string& nodeName = kImportedNodeName,
                         const std::string& sourceName = "");
LoadResult importTcclXmlFile(const std::string& path,
                             const std::string& nodeName = kImportedNodeName);

}  // namespace tccl::db

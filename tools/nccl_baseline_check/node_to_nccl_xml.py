# Scratch: our topology JSON -> NCCL system XML (for the NCCL harness only).
# usage: to_xml.py TOPO.json SUBSET(all|0123) nic|no
import json, sys, math
t = json.load(open(sys.argv[1]))
sub = list(range(len(t['gpus']))) if sys.argv[2] == 'all' else [int(c) for c in sys.argv[2]]
with_nic = sys.argv[3] == 'nic'
vendor = 'AuthenticAMD' if ('AMD' in t['cpu_model'] or 'EPYC' in t['cpu_model']) else 'GenuineIntel'
m = t['cpu_model'].lower()
intel_model = 0xcf if 'emerald' in m else 0x8f if 'sapphire' in m else 0x55 if any(k in m for k in ('skylake','cascade','gold','platinum','silver')) else 0x4f
fam, model = (23, 49) if vendor == 'AuthenticAMD' else (6, intel_model)
speeds = {15: '2.5 GT/s PCIe', 30: '5.0 GT/s PCIe', 60: '8.0 GT/s PCIe', 120: '16.0 GT/s PCIe', 240: '32.0 GT/s PCIe', 480: '64.0 GT/s PCIe'}
def link(g):
    g = float(g); best = None
    for w in (1, 2, 4, 8, 16):
        for s in speeds:
            v = w * s / 80.0
            d = abs(math.log(g / v))
            if best is None or d < best[0]: best = (d, s, w)
    return speeds[best[1]], best[2]
def net_mbps(g):
    ports = [1.25, 3.125, 5, 6.25, 12.5, 25, 50, 100]
    return int(min(ports, key=lambda p: abs(math.log(g / p))) * 8000)
def sm(m):
    m = m.lower()
    for k, v in [('v100', 70), ('4090', 89), ('3090', 86), ('h100', 90), ('a100', 80), ('l40', 89)]:
        if k in m: return v
    return 80
pcie = {p['id']: p for p in t['pcie']}
def chain(pid):
    out = []
    while True:
        p = pcie[pid]
        if p['type'] == 'root_port': return p['numa'], list(reversed(out))
        out.append(pid); pid = p['parent']
children = {}; leaves = {}; cpu_order = []
def add(parent, child):
    children.setdefault(parent, [])
    if child not in children[parent]: children[parent].append(child)
devs = [('gpu', i) for i in sub] + ([('nic', 0)] if with_nic and t.get('nics') else [])
for kind, idx in devs:
    obj = t['gpus'][idx] if kind == 'gpu' else t['nics'][idx]
    numa, sw = chain(obj['parent'])
    if numa not in cpu_order: cpu_order.append(numa)
    up = ('cpu', numa)
    for s in sw:
        add(up, ('sw', s)); up = ('sw', s)
    leaves.setdefault(up, []).append((kind, idx, obj))
    add(up, ('leaf', len(leaves[up]) - 1))
out = ['<system version="1">']
swbus = iter(range(0x10, 0xff))
def emit(key, ind):
    for c in children.get(key, []):
        if c[0] == 'leaf':
            kind, idx, obj = leaves[key][c[1]]
            sp, w = link(min(obj['up_gbps'], obj['down_gbps']))
            if kind == 'gpu':
                out.append(f'{ind}<pci busid="{obj["bus_id"]}" class="0x030200" vendor="0x10de" device="0x1db4" subsystem_vendor="0x10de" subsystem_device="0x1214" link_speed="{sp}" link_width="{w}">')
                out.append(f'{ind}  <gpu dev="{idx}" sm="{sm(obj["model"])}" rank="{sub.index(idx)}" gdr="1"/>')
                out.append(f'{ind}</pci>')
            else:
                out.append(f'{ind}<pci busid="0000:e{idx}:00.0" class="0x020700" vendor="0x15b3" device="0x1017" subsystem_vendor="0x15b3" subsystem_device="0x0007" link_speed="{sp}" link_width="{w}">')
                out.append(f'{ind}  <nic><net name="{obj["name"]}" dev="{idx}" speed="{net_mbps(obj["wire_gbps"])}" port="1" latency="0" guid="0x{idx+1}" maxconn="131072" gdr="{1 if obj.get("gpu_direct") else 0}"/></nic>')
                out.append(f'{ind}</pci>')
        else:
            p = pcie[c[1]]
            sp, w = link(min(p['up_gbps'], p['down_gbps']))
            out.append(f'{ind}<pci busid="0000:{next(swbus):02x}:00.0" class="0x060400" vendor="0x10b5" device="0x8747" subsystem_vendor="0x10b5" subsystem_device="0x8747" link_speed="{sp}" link_width="{w}">')
            emit(c, ind + '  ')
            out.append(f'{ind}</pci>')
for k in cpu_order:
    out.append(f'  <cpu host_hash="0x1234" numaid="{k}" affinity="00000000,0000ffff" arch="x86_64" vendor="{vendor}" familyid="{fam}" modelid="{model}">')
    emit(('cpu', k), '    ')
    out.append('  </cpu>')
out.append('</system>')
print('\n'.join(out))

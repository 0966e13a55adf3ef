"""Two processes on cuda:0 with torch.distributed (backend nccl) while libtccl.so is preloaded:
checks all_reduce, all_gather, reduce_scatter, broadcast and barrier values. Run by run.sh as
    LD_PRELOAD=libtccl.so NCCL_DEBUG=VERSION python3 torch_check.py
Prints one "TORCH_CHECK <name> OK|FAIL" line per check from rank 0; exit code 0 when all pass.
    python3 torch_check.py --linkage
prints how this torch reaches NCCL, "dynamic: ...", "static: ..." or "none: ...", by asking
torch for NCCL's version and looking for a libnccl in the process's mappings (no GPU needed)."""
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, world, port, results):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.cuda.set_device(0)  # both ranks share GPU 0
    try:  # device_id (torch >= 2.3) creates the communicator eagerly
        dist.init_process_group("nccl", rank=rank, world_size=world, device_id=torch.device("cuda:0"))
    except TypeError:
        dist.init_process_group("nccl", rank=rank, world_size=world)
    dev = torch.device("cuda:0")
    ok = {}
    n = 1 << 20
    x = torch.arange(n, device=dev, dtype=torch.float32) % 97 + rank
    dist.all_reduce(x)
    ok["all_reduce"] = torch.equal(x, (torch.arange(n, device=dev, dtype=torch.float32) % 97) * world + sum(range(world)))
    y = torch.full((1000,), float(rank + 1), device=dev, dtype=torch.bfloat16)
    gathered = [torch.empty_like(y) for _ in range(world)]
    dist.all_gather(gathered, y)
    ok["all_gather"] = all(torch.all(g == r + 1).item() for r, g in enumerate(gathered))
    inp = torch.cat([torch.full((513,), float(r * 10 + rank), device=dev, dtype=torch.float16) for r in range(world)])
    out = torch.empty(513, device=dev, dtype=torch.float16)
    dist.reduce_scatter_tensor(out, inp)
    ok["reduce_scatter"] = torch.all(out == sum(rank * 10 + r for r in range(world))).item()
    b = torch.full((12345,), float(rank + 7), device=dev, dtype=torch.float32)
    dist.broadcast(b, src=1)
    ok["broadcast"] = torch.all(b == 8.0).item()
    dist.barrier()
    ok["barrier"] = True
    torch.cuda.synchronize()
    results[rank] = ok
    dist.destroy_process_group()


def linkage():
    lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    if not os.path.exists(os.path.join(lib, "libtorch_cuda.so")):
        return f"none: CPU-only torch {torch.__version__} ({lib} has no libtorch_cuda.so)"
    try:
        version = ".".join(str(v) for v in torch.cuda.nccl.version())
    except Exception as e:  # a build without NCCL
        return f"none: torch {torch.__version__} has no NCCL ({e})"
    with open("/proc/self/maps") as maps:
        loaded = sorted({line.split()[-1] for line in maps if "libnccl" in line})
    if loaded:
        return (f"dynamic: torch {torch.__version__} loads {loaded[0]} (NCCL {version}): "
                "LD_PRELOAD=libtccl.so replaces it, LD_LIBRARY_PATH does not")
    return (f"static: torch {torch.__version__} has NCCL {version} linked in: "
            "TCCL cannot replace it")


def main():
    if sys.argv[1:] == ["--linkage"]:
        print(linkage())
        return 0
    world = 2
    port = 29500 + os.getpid() % 1000
    mgr = mp.Manager()
    results = mgr.dict()
    mp.spawn(worker, args=(world, port, results), nprocs=world, join=True)
    failed = 0
    for name in ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "barrier"]:
        good = all(results.get(r, {}).get(name, False) for r in range(world))
        failed += not good
        print(f"TORCH_CHECK {name} {'OK' if good else 'FAIL'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

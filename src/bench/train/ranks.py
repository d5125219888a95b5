"""Runs a function on several CPU processes that join one torch.distributed group (a file rendezvous), as the
PyTorch layer's bench and its multi-process tests do: worker(rank, world, init, *args, results) puts its result on
`results`; spawn_ranks returns them in rank order. Each rank ends with leave_group()."""
import os
import tempfile

import torch.multiprocessing as mp


def spawn_ranks(worker, *args, world=2, timeout=1800):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="renorm-ranks-") as folder:  # the rendezvous file, removed after
        init = "file://" + os.path.join(folder, "rendezvous")
        procs = [ctx.Process(target=worker, args=(r, world, init) + args + (results,)) for r in range(world)]
        for p in procs:
            p.start()
        got = sorted((results.get(timeout=timeout) for _ in procs), key=lambda r: r["rank"])
        for p in procs:
            p.join()
    return got, [p.exitcode for p in procs]


def leave_group():
    """Tears the process group down once every rank is done with it. Without the barrier a rank can close its
    connections while a peer still uses its own (a collective it took no part in, or one still finishing), and gloo
    aborts the peer that sees the close: exit code -6 after its results were in (seen under torch 1.13 and 2.13)."""
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()

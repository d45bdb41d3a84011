"""Opens N keep-alive connections to HOST:PORT, sends one `GET /hello` on each and reads the
answer, prints `open N`, then leaves them idle until the server closes each one (EOF) and prints
`closed`. Used by the idle-connection benchmarks through `open_idle_connections` (fixture.sh).

    python3 benches/idle_client.py HOST PORT N
"""
import asyncio, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REQ = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

async def one(sem, conns):
    async with sem:
        r, w = await asyncio.open_connection(host, port)
        w.write(REQ)
        head = await r.readuntil(b"\r\n\r\n")
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length"))
        await r.readexactly(length)
        conns.append((r, w))

async def main():
    sem, conns = asyncio.Semaphore(256), []
    await asyncio.gather(*(one(sem, conns) for _ in range(n)))
    print(f"open {len(conns)}", flush=True)
    # Idle until the server closes each connection (EOF), then close ours.
    async def wait_close(r, w):
        try:
            await r.read()
        except ConnectionError:
            pass
        w.close()
    await asyncio.gather(*(wait_close(r, w) for r, w in conns))
    print("closed", flush=True)

asyncio.run(main())

#!/usr/bin/env python3
"""bench/api/sse_clients.py: N clients connected to zdapd's GET /v1/events at once (issue 24).

  sse_clients.py URL TOKEN N [CA_FILE]

Opens N connections (asyncio, one process), sends each request, and reads the streams until
SIGTERM/SIGINT; then prints "connected=<n> events=<total> min=<fewest per client>" and exits.
Every client must connect within 30 s, or it exits 1 saying how many did.
"""
import asyncio
import signal
import ssl
import sys
import urllib.parse


async def client(host, port, path, token, ctx, counts, i, ready):
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx,
                                                   server_hostname=host if ctx else None)
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"client {i}: {status!r}")
    ready.release()
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.startswith(b"id:"):
            counts[i] += 1


async def main():
    url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ca = sys.argv[4] if len(sys.argv) > 4 else None
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=ca) if u.scheme == "https" else None
    counts = [0] * n
    ready = asyncio.Semaphore(0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(client(u.hostname, u.port, "/v1/events", token, ctx, counts, i,
                                        ready)) for i in range(n)]
    connected = 0
    try:
        async with asyncio.timeout(30):
            for _ in range(n):
                await ready.acquire()
                connected += 1
    except TimeoutError:
        print(f"only {connected} of {n} clients connected in 30 s", file=sys.stderr)
        sys.exit(1)
    print("connected", flush=True)  # the bench waits for this line
    await stop.wait()
    for t in tasks:
        t.cancel()
    print(f"connected={connected} events={sum(counts)} min={min(counts)}", flush=True)


asyncio.run(main())

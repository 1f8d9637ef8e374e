#!/usr/bin/env python3
"""Writes the JSON documents nginx serves in the benchmarks.

    gendocs.py WWW_DIR N

WWW_DIR/items.json and WWW_DIR/items/1.json .. N.json, each exactly
1024 bytes: a page of an item list, as a JSON API returns it. The numbered
documents differ from each other the way real API responses do (ids,
names, prices, stock), so the compression ratio measured on them is not
flattered by identical bodies. Deterministic: the same N gives the same
files.
"""
import os
import random
import sys

SIZE = 1024
WORDS = ("steel", "oak", "blue", "lamp", "chair", "cable", "mug", "desk",
         "red", "green", "small", "large", "pro", "mini", "glass", "wool")


ITEM = ('{"id":%d,"sku":"SKU-%05d","name":"%s","price":"%d.%02d",'
        '"stock":%d,"active":%s}')


def item(rng, item_id):
    name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    return ITEM % (item_id, rng.randrange(100000), name,
                   rng.randrange(1, 500), rng.randrange(100),
                   rng.randrange(1000),
                   "true" if rng.random() < 0.9 else "false")


def document(rng, page):
    """One page of items, padded to exactly SIZE bytes with its newline."""
    head = '{"page":%d,"next":"/api/v1/items?page=%d","items":[' % (
        page, page + 1)
    tail = '],"pad":"%s"}\n'
    items, used = [], len(head) + len(tail) - 2
    while True:
        text = item(rng, page * 100 + len(items))
        if used + len(text) + (1 if items else 0) > SIZE:
            break
        used += len(text) + (1 if items else 0)
        items.append(text)
    doc = head + ",".join(items) + tail % (" " * (SIZE - used))
    assert len(doc) == SIZE, len(doc)
    return doc


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gendocs.py WWW_DIR N")
    www, count = sys.argv[1], int(sys.argv[2])
    os.makedirs(os.path.join(www, "items"), exist_ok=True)
    rng = random.Random(1)
    with open(os.path.join(www, "items.json"), "w") as f:
        f.write(document(rng, 0))
    for page in range(1, count + 1):
        with open(os.path.join(www, "items", "%d.json" % page), "w") as f:
            f.write(document(rng, page))


if __name__ == "__main__":
    main()

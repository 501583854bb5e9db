import threading


class Pool:
    """Per-thread engine objects made on demand and reused: a call takes a free one (or
    makes one), so any number of Python threads can share one Analyzer, Classifier or Model
    and run at once, the GIL released inside the C calls."""

    def __init__(self, make, free):
        self._make, self._free = make, free
        self._idle, self._all = [], []
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        obj = self._make()
        with self._lock:
            self._all.append(obj)
        return obj

    def adopt(self, obj):
        """Adds an object made elsewhere (freed last: clones may borrow from it)."""
        with self._lock:
            self._all.insert(0, obj)
            self._idle.append(obj)

    def put(self, obj):
        with self._lock:
            self._idle.append(obj)

    def __len__(self):
        return len(self._all)

    def close(self):
        with self._lock:
            objs, self._all, self._idle = self._all, [], []
        for o in reversed(objs):
            self._free(o)

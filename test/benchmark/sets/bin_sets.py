"""Write insightface-style verification .bin files in every pickle variant the reader accepts,
and a few it must refuse. Usage: /usr/bin/python3 bin_sets.py OUT_DIR IMAGES_DIR
IMAGES_DIR holds 0.jpg, 1.jpg, ... (2 per pair) and labels.json ([true, false, ...]).
Prints a JSON manifest: {variant: file} for the accepted ones, {"refuse": {name: file}}."""
import json
import os
import pickle
import struct
import sys

out, images_dir = sys.argv[1], sys.argv[2]
labels = json.load(open(os.path.join(images_dir, 'labels.json')))
bins = [open(os.path.join(images_dir, '%d.jpg' % i), 'rb').read() for i in range(2 * len(labels))]


def python2_str_pickle(bins, issame):
    """What Python 2's pickle.dump((bins, issame), f, protocol=2) writes when bins are str:
    SHORT_BINSTRING below 256 bytes, BINSTRING above, lists built with MARK ... APPENDS in
    batches of 1000, each new object memoized with BINPUT/LONG_BINPUT, then TUPLE2."""
    o = bytearray(b'\x80\x02')
    memo = [0]

    def put():
        k = memo[0]
        memo[0] += 1
        o.extend(b'q' + bytes([k]) if k < 256 else b'r' + struct.pack('<I', k))

    def write_list(items, write_item):
        o.extend(b']')
        put()
        for start in range(0, len(items), 1000):
            o.extend(b'(')
            for it in items[start:start + 1000]:
                write_item(it)
            o.extend(b'e')

    def write_str(b):
        o.extend(b'U' + bytes([len(b)]) if len(b) < 256 else b'T' + struct.pack('<I', len(b)))
        o.extend(b)
        put()

    write_list(bins, write_str)
    write_list(issame, lambda v: o.extend(b'\x88' if v else b'\x89'))
    o.extend(b'\x86')
    put()
    o.extend(b'.')
    return bytes(o)


files = {}


def write(name, data):
    path = os.path.join(out, name)
    with open(path, 'wb') as f:
        f.write(data)
    return path


for proto in (2, 4, 5):
    files['protocol%d' % proto] = write('p%d.bin' % proto, pickle.dumps((bins, labels), protocol=proto))
files['protocol1'] = write('p1.bin', pickle.dumps((bins, labels), protocol=1))
py2 = python2_str_pickle(bins, labels)
# the hand-written Python 2 file is a valid pickle that loads back to the same bytes
back_bins, back_labels = pickle.loads(py2, encoding='bytes')
assert back_bins == bins and back_labels == labels
files['python2'] = write('py2.bin', py2)


class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


refuse = {
    'global': write('evil.bin', pickle.dumps((bins[:2], [Evil()]), protocol=2)),
    'dict': write('dict.bin', pickle.dumps({'bins': bins[:2], 'issame': labels[:1]}, protocol=4)),
    'odd': write('odd.bin', pickle.dumps((bins[:3], labels[:1]), protocol=4)),
    'labels': write('labels.bin', pickle.dumps((bins[:2], ['yes']), protocol=4)),
    'truncated': write('truncated.bin', pickle.dumps((bins, labels), protocol=4)[:-40]),
    'text': write('text.bin', b'this is not a pickle\n'),
}
files['refuse'] = refuse
print(json.dumps(files))

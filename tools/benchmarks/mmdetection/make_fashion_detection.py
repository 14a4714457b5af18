"""Write a small detection data set made of Fashion-MNIST items, in VOC and
COCO format, for detection-transfer smoke runs on the CPU.

    python tools/benchmarks/mmdetection/make_fashion_detection.py \
        data/fashion_det [--source data/fashion_mnist] [--train 2000] \
        [--test 500] [--size 112] [--max-objects 3] [--seed 0]

Each image is a dark, noisy ``size x size`` grey canvas with 1 to
``--max-objects`` Fashion-MNIST items pasted at random, non-overlapping
places, each scaled by 1, 1.5 or 2; its box is the tight box of the item's
bright pixels and its class the item's Fashion-MNIST class. Training images
take their items from the train split, test images from the test split.
Layout (mmdet's ``VOCDataset`` and ``CocoDataset`` read it as is)::

    OUT/voc/JPEGImages/{id}.jpg         grey JPEG images
    OUT/voc/Annotations/{id}.xml        VOC boxes (1-based)
    OUT/voc/ImageSets/Main/{trainval,test}.txt
    OUT/annotations/instances_{trainval,test}.json   COCO boxes
"""
import argparse
import json
import os
import os.path as osp
import sys
from xml.sax.saxutils import escape

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# mmpretrain's FashionMNIST classes, in label order.
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
SCALES = (1.0, 1.5, 2.0)
BRIGHT = 30  # pixels above this belong to the item's box


def item_box(item: np.ndarray):
    """Tight ``(x1, y1, x2, y2)`` (exclusive ends) of the bright pixels, or
    ``None`` for an empty item."""
    ys, xs = np.nonzero(item > BRIGHT)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def compose(rng, items, labels, size, max_objects):
    """One canvas and its objects ``[(label, x1, y1, x2, y2)]``."""
    canvas = rng.randint(0, 25, size=(size, size)).astype(np.uint8)
    taken = np.zeros((size, size), dtype=bool)
    objects = []
    for _ in range(rng.randint(1, max_objects + 1)):
        idx = rng.randint(len(items))
        scale = SCALES[rng.randint(len(SCALES))]
        side = int(round(28 * scale))
        item = cv2.resize(items[idx], (side, side),
                          interpolation=cv2.INTER_LINEAR)
        box = item_box(item)
        if box is None or side > size:
            continue
        for _ in range(20):  # a free place, or give this item up
            x, y = rng.randint(size - side + 1), rng.randint(size - side + 1)
            if not taken[y:y + side, x:x + side].any():
                break
        else:
            continue
        taken[y:y + side, x:x + side] = True
        region = canvas[y:y + side, x:x + side]
        np.maximum(region, item, out=region)
        x1, y1, x2, y2 = box
        objects.append((int(labels[idx]), x + x1, y + y1, x + x2, y + y2))
    return canvas, objects


def voc_xml(img_id, size, objects) -> str:
    parts = [
        '<annotation>', '  <folder>voc</folder>',
        f'  <filename>{img_id}.jpg</filename>',
        f'  <size><width>{size}</width><height>{size}</height>'
        '<depth>1</depth></size>'
    ]
    for label, x1, y1, x2, y2 in objects:
        # VOC coordinates are 1-based and inclusive.
        parts += [
            '  <object>', f'    <name>{escape(CLASSES[label])}</name>',
            '    <difficult>0</difficult>',
            f'    <bndbox><xmin>{x1 + 1}</xmin><ymin>{y1 + 1}</ymin>'
            f'<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox>', '  </object>'
        ]
    return '\n'.join(parts + ['</annotation>', ''])


def write_split(out, split, num, items, labels, size, max_objects, rng,
                first_id):
    voc = osp.join(out, 'voc')
    ids, images, annotations = [], [], []
    for n in range(num):
        img_id = f'{first_id + n:06d}'
        canvas, objects = compose(rng, items, labels, size, max_objects)
        cv2.imwrite(osp.join(voc, 'JPEGImages', f'{img_id}.jpg'), canvas,
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        with open(osp.join(voc, 'Annotations', f'{img_id}.xml'), 'w') as f:
            f.write(voc_xml(img_id, size, objects))
        ids.append(img_id)
        images.append(dict(id=first_id + n, file_name=f'{img_id}.jpg',
                           width=size, height=size))
        for label, x1, y1, x2, y2 in objects:
            annotations.append(dict(
                id=len(annotations) + 1, image_id=first_id + n,
                category_id=label + 1, bbox=[x1, y1, x2 - x1, y2 - y1],
                area=(x2 - x1) * (y2 - y1), iscrowd=0))
    with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
        f.write('\n'.join(ids) + '\n')
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=name)
                    for i, name in enumerate(CLASSES)])
    with open(osp.join(out, 'annotations', f'instances_{split}.json'),
              'w') as f:
        json.dump(coco, f)
    return len(annotations)


def load_split(source: str, train: bool):
    from bsim_plugin.datasets import prepare_fashion_mnist
    from bsim_plugin.evaluation import load_image_arrays
    root = prepare_fashion_mnist(source)
    images, labels = load_image_arrays(
        dict(type='FashionMNIST', data_root=root,
             split='train' if train else 'test', test_mode=not train,
             download=False))
    return images[:, 0].numpy(), labels.numpy()


def make(out, source='data/fashion_mnist', train=2000, test=500, size=112,
         max_objects=3, seed=0, splits=None):
    """Write the data set; ``splits`` (``{'trainval': (images, labels),
    'test': ...}``) replaces reading Fashion-MNIST from ``source``."""
    if size < 28:
        raise ValueError(f'--size must be >= 28 (one item), got {size}')
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(out, 'voc', sub), exist_ok=True)
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    rng = np.random.RandomState(seed)
    counts = {}
    for split, num, is_train, first in (('trainval', train, True, 0),
                                        ('test', test, False, train)):
        items, labels = (splits[split] if splits else load_split(
            source, is_train))
        counts[split] = (num, write_split(out, split, num, items, labels,
                                          size, max_objects, rng, first))
    return counts


def build_parser() -> argparse.ArgumentParser:
    # The docstring's first sentence (it spans two lines).
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('out', help='the folder to write (voc/ and '
                        'annotations/ go in it)')
    parser.add_argument('--source', default='data/fashion_mnist',
                        help='the Fashion-MNIST folder (idx files or their '
                        '.gz; default data/fashion_mnist, filled from the '
                        'Debian package or a download when empty)')
    parser.add_argument('--train', type=int, default=2000,
                        help='training images (default 2000)')
    parser.add_argument('--test', type=int, default=500,
                        help='test images (default 500)')
    parser.add_argument('--size', type=int, default=112,
                        help='canvas side in pixels, >= 28 (default 112)')
    parser.add_argument('--max-objects', type=int, default=3,
                        help='items per image, 1 to this (default 3)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed (default 0)')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    counts = make(args.out, args.source, args.train, args.test, args.size,
                  args.max_objects, args.seed)
    for split, (images, objects) in counts.items():
        print(f'{split}: {images} images, {objects} objects')
    print(f'written to {args.out} (voc/ and annotations/)')


if __name__ == '__main__':
    main()

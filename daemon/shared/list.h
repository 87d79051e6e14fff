/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Intrusive doubly-linked lists in the manner of systemd's list.h: an item has
 * `type *name##_prev, *name##_next` fields, the list is a `type *head` (and, for appending in
 * order, a tail kept by the caller). */

#define LIST_FIELDS(type, name) type *name##_prev, *name##_next

#define LIST_PREPEND(name, head, item)                                  \
        do {                                                            \
                __typeof__(*(head)) **_head_ = &(head), *_item_ = (item); \
                _item_->name##_prev = NULL;                             \
                _item_->name##_next = *_head_;                          \
                if (*_head_)                                            \
                        (*_head_)->name##_prev = _item_;                \
                *_head_ = _item_;                                       \
        } while (0)

#define LIST_APPEND(name, head, tail, item)                             \
        do {                                                            \
                __typeof__(*(head)) **_head_ = &(head), **_tail_ = &(tail), *_item_ = (item); \
                _item_->name##_next = NULL;                             \
                _item_->name##_prev = *_tail_;                          \
                if (*_tail_)                                            \
                        (*_tail_)->name##_next = _item_;                \
                else                                                    \
                        *_head_ = _item_;                               \
                *_tail_ = _item_;                                       \
        } while (0)

/* tail may be a dummy variable for lists that keep none. */
#define LIST_REMOVE(name, head, tail, item)                             \
        do {                                                            \
                __typeof__(*(head)) **_head_ = &(head), **_tail_ = &(tail), *_item_ = (item); \
                if (_item_->name##_prev)                                \
                        _item_->name##_prev->name##_next = _item_->name##_next; \
                else                                                    \
                        *_head_ = _item_->name##_next;                  \
                if (_item_->name##_next)                                \
                        _item_->name##_next->name##_prev = _item_->name##_prev; \
                else if (*_tail_ == _item_)                             \
                        *_tail_ = _item_->name##_prev;                  \
                _item_->name##_prev = _item_->name##_next = NULL;       \
        } while (0)

#define LIST_FOREACH_SAFE(name, i, n, head) \
        for ((i) = (head); (i) && (((n) = (i)->name##_next), 1); (i) = (n))

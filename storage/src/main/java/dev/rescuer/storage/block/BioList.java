package dev.rescuer.storage.block;

/**
 * A FIFO of bios linked through {@link Bio#next} ({@code struct bio_list}). Not thread-safe: a list
 * belongs to one task ({@code current->bio_list}) or is guarded by its owner's lock.
 */
public final class BioList {

    private Bio head;
    private Bio tail;
    private int size;

    /** Whether the list holds no bio. */
    public boolean isEmpty() {
        return head == null;
    }

    /** How many bios the list holds. */
    public int size() {
        return size;
    }

    /** Appends {@code bio}, which must not be on a list ({@code bio_list_add}). */
    public void add(Bio bio) {
        if (bio.next != null || bio == tail) {
            throw new IllegalStateException(bio + " is already on a bio list");
        }
        if (tail == null) {
            head = bio;
        } else {
            tail.next = bio;
        }
        tail = bio;
        size++;
    }

    /** Removes and returns the first bio, or {@code null} ({@code bio_list_pop}). */
    public Bio pop() {
        Bio bio = head;
        if (bio != null) {
            head = bio.next;
            if (head == null) {
                tail = null;
            }
            bio.next = null;
            size--;
        }
        return bio;
    }

    /** The first bio without removing it, or {@code null} ({@code bio_list_peek}). */
    public Bio peek() {
        return head;
    }

    /** Moves every bio of {@code other} to the end of this list, in order, and empties it ({@code bio_list_merge}, then init). */
    public void merge(BioList other) {
        if (other == this) {
            throw new IllegalArgumentException("cannot merge a bio list into itself");
        }
        if (other.head == null) {
            return;
        }
        if (tail == null) {
            head = other.head;
        } else {
            tail.next = other.head;
        }
        tail = other.tail;
        size += other.size;
        other.head = null;
        other.tail = null;
        other.size = 0;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (Bio b = head; b != null; b = b.next) {
            sb.append(b == head ? "" : ", ").append(b);
        }
        return sb.append(']').toString();
    }
}

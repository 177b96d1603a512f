package dev.rescuer.core.mm;

/**
 * What a {@link Shrinker} is asked to do in one call ({@code struct shrink_control}): the effective
 * allocation context it must honour and, for {@link Shrinker#scan}, how many objects to look at.
 */
public final class ShrinkControl {

    private final Gfp gfp;
    private long nrToScan;

    ShrinkControl(Gfp gfp) {
        this.gfp = gfp;
    }

    /** The reclaiming allocation's effective context, scopes applied. */
    public Gfp gfp() {
        return gfp;
    }

    /** How many objects this scan should look at; zero during {@link Shrinker#count}. */
    public long nrToScan() {
        return nrToScan;
    }

    void setNrToScan(long n) {
        nrToScan = n;
    }

    @Override
    public String toString() {
        return "ShrinkControl[" + gfp + ", nrToScan=" + nrToScan + "]";
    }
}

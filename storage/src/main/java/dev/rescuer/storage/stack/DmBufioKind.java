package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.bufio.DmBufioClient;
import dev.rescuer.storage.dm.bufio.ShrinkerForm;
import dev.rescuer.storage.loop.LoopDevice;

/**
 * {@code kind: dm-bufio}: a dm-bufio client ({@link DmBufioClient}, {@code dm_bufio_client_create})
 * caching blocks of {@code device}, as dm-thin's metadata does; workloads name it by its
 * {@code name} ({@code thin}'s {@code metadata}). {@code shrinker_form}: the kernel version's shrinker
 * ({@link ShrinkerForm}: {@code pre-2014}, {@code gfp-fs-2014}, {@code trylock-2019},
 * {@code workqueue-2020}; default {@code workqueue-2020}, upstream's); {@code reserved_buffers}
 * (default 0); {@code block_size} in bytes (default 4096, a positive multiple of 512). Its shrinker
 * is registered when it is built, so in device order.
 *
 * <p><b>Releasers.</b> A task waiting for one of its buffer writes ({@code B_WRITING}) is released
 * by whoever serves the device's requests: on a loop device, its worker (the kthread, or its work
 * item), which the kind declares ({@code DeviceMapper.declareReleaser}); on a disk, the disk's
 * completion, which is no task and needs no declaration.
 *
 * <p>Not a block device: no table or writer can name it.
 */
public final class DmBufioKind extends AbstractDeviceKind<DmBufioKind.Config> {

    /**
     * A dm-bufio entry.
     *
     * @param kind {@code dm-bufio}
     * @param name the client's name
     * @param device the block device whose blocks it caches
     * @param shrinkerForm the shrinker's form
     * @param reservedBuffers buffers kept allocated for reads under pressure
     * @param blockSize the block size in bytes
     */
    public record Config(String kind, String name, String device,
                         @JsonProperty("shrinker_form") String shrinkerForm,
                         @JsonProperty("reserved_buffers") Integer reservedBuffers,
                         @JsonProperty("block_size") Integer blockSize) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: dm-bufio} entries. */
    public DmBufioKind() {
        super("dm-bufio", Config.class);
    }

    @Override
    public boolean blockDevice() {
        return false;
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.requireDevice(c.device(), "device", c.name());
        // a dm-bufio client is a dm target's (dm-thin's metadata device, opened by dm_get_device)
        check.claim("device", c.device(), DmKind.DM_HOLDER, "dm-bufio client " + c.name());
        if (c.shrinkerForm() != null) {
            try {
                ShrinkerForm.of(c.shrinkerForm());
            } catch (IllegalArgumentException e) {
                throw check.error("shrinker_form", e.getMessage());
            }
        }
        if (c.reservedBuffers() != null && c.reservedBuffers() < 0) {
            throw check.error("reserved_buffers", "must be >= 0, got " + c.reservedBuffers());
        }
        if (c.blockSize() != null && (c.blockSize() <= 0 || c.blockSize() % Bio.SECTOR_SIZE != 0)) {
            throw check.error("block_size", "must be a positive multiple of " + Bio.SECTOR_SIZE + ", got " + c.blockSize());
        }
    }

    /** The block size in bytes; default 4096. */
    static int blockSize(Config c) {
        return c.blockSize() == null ? Bio.PAGE_SIZE : c.blockSize();
    }

    @Override
    public void build(Config c, StackBuild b) {
        BlockDevice dev = b.dm().lookup(c.device());
        ShrinkerForm form = c.shrinkerForm() == null ? ShrinkerForm.WORKQUEUE_2020 : ShrinkerForm.of(c.shrinkerForm());
        DmBufioClient client = new DmBufioClient(b.system(), dev, blockSize(c),
                c.reservedBuffers() == null ? 0 : c.reservedBuffers(), 0, c.name(), form);
        if (dev instanceof LoopDevice loop) {
            if (loop.workerTask() != null) {
                b.dm().declareReleaser(client.writeWait(), loop.workerTask());
            } else {
                b.dm().declareReleaser(client.writeWait(), loop.work());
            }
        }
        client.declareWaits(b.dm().waitGraph());
        b.bufioClients().put(c.name(), client);
    }
}

package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Primitive;

/**
 * What a daemon task sleeps on while it has nothing to do (an idle worker, a rescuer, kthreadd, a
 * softirq context): an idle wait, which the hung-task detector does not report ({@code TASK_IDLE}).
 */
final class IdleWait implements Primitive {

    private final String name;
    private final String kind;

    IdleWait(String name, String kind) {
        this.name = name;
        this.kind = kind;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lockClass() {
        return kind;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public boolean isIdleWait() {
        return true;
    }
}

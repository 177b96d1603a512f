package dev.rescuer.storage.stack;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link OneOf}: a name, or a list of names of which each run draws one from its seed. */
class OneOfTest {

    @Test
    void aSingleNameIsUsedWithoutADraw() {
        RandomGenerator none = () -> {
            throw new AssertionError("a single name must not draw");
        };
        assertEquals("image", OneOf.parse(JsonNodeFactory.instance.textNode("image")).draw(none));
    }

    @Test
    void aListDrawsEveryNameAndTheSameSeedDrawsTheSame() {
        OneOf o = new OneOf(List.of("image", "spool", "data"));
        TreeSet<String> seen = new TreeSet<>();
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 64; i++) {
            seen.add(o.draw(r));
        }
        assertEquals(new TreeSet<>(o.names()), seen);
        assertEquals(o.draw(new SplittableRandom(7)), o.draw(new SplittableRandom(7)));
    }

    @Test
    void badListsAreRefusedWithTheirReasonAndElement() {
        assertEquals("the list is empty: give one name or several to draw from",
                assertThrows(IllegalArgumentException.class, () -> new OneOf(List.of())).getMessage());
        assertEquals("'a' is listed twice", assertThrows(IllegalArgumentException.class, () -> new OneOf(List.of("a", "b", "a"))).getMessage());
        OneOf.BadValue e = assertThrows(OneOf.BadValue.class, () -> OneOf.parse(JsonNodeFactory.instance.arrayNode().add("a").add(2)));
        assertEquals(1, e.index());
        assertEquals("wrong type: expected a name, got 2", e.getMessage());
        assertEquals(-1, assertThrows(OneOf.BadValue.class, () -> OneOf.parse(JsonNodeFactory.instance.numberNode(3))).index());
    }
}

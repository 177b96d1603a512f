/** The validator in JUnit 5: {@link dev.rescuer.check.junit.ValidatorExtension} fails tests whose run recorded a potential cycle. */
package dev.rescuer.check.junit;
